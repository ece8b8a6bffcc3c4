"""Demo expert profiles and challenge alerts for the demo solvers (seed.SOLVERS), saved through the
same services as the profile page. Runs before the challenges are published, so the followers
get their notifications (and mails in their language) when the demo challenges open.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.solvers import alerts, profiles
from marketplace.solvers.orcid import check_digit


def _orcid(serial: int) -> str:
    """A well-formed demo ORCID iD (valid check digit) in the 0000-0002 block."""
    base = f"00000002{serial:07d}"
    digits = base + check_digit(base)
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


def _paper(year: int, title: str, kind: str = "publication", link: str | None = None, *coauthors: str) -> dict:
    return {"year": year, "title": title, "kind": kind, "link": link, "coauthors": list(coauthors)}


# email -> (profile fields, interests [(kind, value)], digest)
PROFILES: dict[str, tuple[dict, list[tuple[str, str]], bool]] = {
    "anna.schmidt@tum.example": ({
        "headline": "Analog IC designer: low-noise readout for MEMS and image sensors",
        "bio": "I design **chopper-stabilised amplifiers** and readout chains at TUM.\n\n"
               "- 65 nm and 180 nm CMOS tape-outs\n- noise below 2 nV/√Hz",
        "expertise": ["analog-design", "mixed-signal", "readout-circuits", "mems"],
        "affiliation": "Technical University of Munich",
        "affiliation_history": [
            {"name": "Technical University of Munich", "domain": "tum.de", "start": "2021-10", "end": None},
            {"name": "Infineon Technologies", "domain": "infineon.com", "start": "2018-04", "end": "2021-09"}],
        "research_history": [
            _paper(2024, "A 1.6 nV/√Hz chopper amplifier for capacitive MEMS readout", "publication",
                   "https://doi.org/10.1109/demo.2024.0001", "Olga Ivanova", "M. Weber"),
            _paper(2023, "Ripple-reduction loop for chopper amplifiers", "patent", None, "M. Weber"),
            _paper(2021, "Low-noise readout IC for gyroscopes (BMBF project)", "grant")],
        "latest_progress": "Measuring the second tape-out: 1/f corner below 10 mHz.",
        "early_career": True, "languages": ["de", "en"], "orcid": _orcid(1001),
        "visibility": {"orcid": "private"},
    }, [("field", "semiconductors"), ("tag", "readout-circuits"), ("keyword", "readout circuit")], False),
    "james.okafor@imperial.example": ({
        "headline": "Lithography and process integration for advanced nodes",
        "bio": "Process engineer turned researcher; overlay control and EUV resist chemistry.",
        "expertise": ["lithography", "process-integration", "metrology"],
        "affiliation": "Imperial College London",
        "affiliation_history": [
            {"name": "Imperial College London", "domain": "imperial.ac.uk", "start": "2019-01", "end": None},
            {"name": "ASML", "domain": "asml.com", "start": "2012-06", "end": "2018-12"}],
        "research_history": [
            _paper(2023, "Stochastic defects in EUV resists at 24 nm pitch", "publication",
                   "https://doi.org/10.1117/demo.2023.17", "K. Patel"),
            _paper(2016, "Overlay correction by higher-order wafer alignment", "patent")],
        "latest_progress": "Modelling line-edge roughness with physics-informed networks.",
        "early_career": False, "languages": ["en", "yo"], "orcid": _orcid(1002),
    }, [("tag", "lithography"), ("field", "semiconductors")], True),
    "maria.garcia@upm.example": ({
        "headline": "Gas sensors on metal-oxide nanostructures",
        "bio": "Chemical sensing with MOX nanowires and low-power micro-hotplates.",
        "expertise": ["gas-sensing", "nanomaterials", "mems"],
        "affiliation": "Universidad Politécnica de Madrid",
        "affiliation_history": [
            {"name": "Universidad Politécnica de Madrid", "domain": "upm.es", "start": "2017-09", "end": None}],
        "research_history": [
            _paper(2022, "SnO2 nanowire arrays for ppb-level NO2 detection", "publication",
                   "https://doi.org/10.1016/demo.2022.3", "Camille Durand")],
        "latest_progress": "Drift compensation with on-chip temperature cycling.",
        "early_career": False, "languages": ["es", "en", "pt"], "orcid": _orcid(1003),
        "visibility": {"latest_progress": "private"},
    }, [("field", "sensors"), ("keyword", "gas")], False),
    "camille.durand@cnrs.example": ({
        "headline": "Perovskite and 2D materials for photodetectors",
        "bio": "CNRS researcher working on halide perovskites and their stability.",
        "expertise": ["perovskites", "2d-materials", "photodetectors"],
        "affiliation": "CNRS, Institut des Nanotechnologies de Lyon",
        "affiliation_history": [
            {"name": "CNRS", "domain": "cnrs.fr", "start": "2016-01", "end": None}],
        "research_history": [
            _paper(2024, "Moisture-stable perovskite photodiodes", "publication", None, "María García"),
            _paper(2020, "ANR project PEROVSENSE", "project")],
        "latest_progress": "Encapsulation tests reached 2,000 h at 85 °C / 85 % RH.",
        "early_career": False, "languages": ["fr", "en"], "orcid": _orcid(1004),
    }, [("field", "materials"), ("tag", "perovskites")], False),
    "kenji.tanaka@u-tokyo.example": ({
        "headline": "MEMS inertial sensors and sensor fusion",
        "bio": "MEMS gyroscope design, mode matching and fusion algorithms.",
        "expertise": ["mems", "inertial-sensing", "sensor-fusion", "signal-processing"],
        "affiliation": "The University of Tokyo",
        "affiliation_history": [
            {"name": "The University of Tokyo", "domain": "u-tokyo.ac.jp", "start": "2020-04", "end": None}],
        "research_history": [
            _paper(2023, "Mode-matched MEMS gyroscopes with electrostatic tuning", "publication",
                   "https://doi.org/10.1109/demo.2023.44", "Tomoko Sato")],
        "latest_progress": "Bias instability of 0.5 °/h on a 2 × 2 mm die.",
        "early_career": True, "languages": ["ja", "en"], "orcid": _orcid(1005),
    }, [("tag", "mems"), ("keyword", "gyroscope"), ("keyword", "陀螺仪")], False),
    "minji.kim@kaist.example": ({
        "headline": "In-memory computing and neuromorphic hardware",
        "bio": "RRAM crossbars for analog matrix-vector multiplication.",
        "expertise": ["in-memory-computing", "neuromorphic", "memristors"],
        "affiliation": "KAIST",
        "affiliation_history": [{"name": "KAIST", "domain": "kaist.ac.kr", "start": "2022-03", "end": None}],
        "research_history": [
            _paper(2024, "Variation-aware training for RRAM crossbars", "publication", None, "Emily Chen")],
        "latest_progress": "A 64 × 64 crossbar test chip is back from the fab.",
        "early_career": True, "languages": ["ko", "en"], "orcid": _orcid(1006),
        "visibility": {"bio": "private"},
    }, [("field", "ai-hardware"), ("keyword", "存算一体")], True),
    "ahmed.hassan@cu.example": ({
        "headline": "Power electronics and wide-bandgap devices",
        "bio": "GaN power stages for compact converters.",
        "expertise": ["power-devices", "wide-bandgap", "gallium-nitride", "thermal-management"],
        "affiliation": "Cairo University",
        "affiliation_history": [{"name": "Cairo University", "domain": "cu.edu.eg", "start": "2015-10", "end": None}],
        "research_history": [_paper(2021, "Gate-driver design for 650 V GaN HEMTs", "publication")],
        "latest_progress": "Thermal modelling of GaN-on-Si packages.",
        "early_career": False, "languages": ["ar", "en"], "orcid": _orcid(1007),
    }, [("tag", "power-devices"), ("field", "semiconductors")], False),
    "priya.nair@iisc.example": ({
        "headline": "Silicon photonics for optical interconnects",
        "bio": "Ring modulators and wavelength-division multiplexing on silicon.",
        "expertise": ["silicon-photonics", "optical-communication"],
        "affiliation": "Indian Institute of Science",
        "affiliation_history": [{"name": "Indian Institute of Science", "domain": "iisc.ac.in", "start": "2019-07",
                                 "end": None}],
        "research_history": [_paper(2023, "Thermally stable microring modulators", "publication")],
        "latest_progress": "Co-packaged optics with a 2.5D interposer.",
        "early_career": True, "languages": ["en", "hi", "ml"], "orcid": _orcid(1008),
    }, [("field", "photonics"), ("keyword", "packaging")], False),
    "lucas.silva@usp.example": ({
        "headline": "Battery materials and solid-state electrolytes",
        "bio": "Sulfide electrolytes and interface engineering.",
        "expertise": ["battery-materials", "solid-state-batteries"],
        "affiliation": "Universidade de São Paulo",
        "affiliation_history": [{"name": "Universidade de São Paulo", "domain": "usp.br", "start": "2018-02",
                                 "end": None}],
        "research_history": [_paper(2022, "Interphase growth in sulfide solid electrolytes", "publication")],
        "latest_progress": "Pouch cells with 300 cycles at 1C.",
        "early_career": False, "languages": ["pt", "es", "en"], "orcid": _orcid(1009),
        "visibility": {"affiliation": "private"},
    }, [("field", "materials"), ("keyword", "固态电池")], False),
    "emily.chen@stanford.example": ({
        "headline": "Hardware-software co-design for edge AI accelerators",
        "bio": "Quantisation-aware compilers and accelerator design.",
        "expertise": ["neural-accelerators", "edge-ai", "compilers", "hardware-software-codesign"],
        "affiliation": "Stanford University",
        "affiliation_history": [{"name": "Stanford University", "domain": "stanford.edu", "start": "2020-09",
                                 "end": None}],
        "research_history": [
            _paper(2024, "Mixed-precision dataflow for transformer inference", "publication", None, "Kim Min-ji")],
        "latest_progress": "Open-sourcing the compiler this spring.",
        "early_career": True, "languages": ["en", "zh_Hans"], "orcid": _orcid(1010),
    }, [("field", "ai-hardware"), ("tag", "edge-ai")], False),
    "olga.ivanova@kth.example": ({
        "headline": "Mixed-signal design and data converters",
        "bio": "SAR and sigma-delta ADCs for sensor interfaces.",
        "expertise": ["mixed-signal", "analog-design", "low-power-design"],
        "affiliation": "KTH Royal Institute of Technology",
        "affiliation_history": [{"name": "KTH Royal Institute of Technology", "domain": "kth.se", "start": "2016-08",
                                 "end": None}],
        "research_history": [
            _paper(2024, "A 1.6 nV/√Hz chopper amplifier for capacitive MEMS readout", "publication", None,
                   "Anna Schmidt", "M. Weber")],
        "latest_progress": "Incremental ADCs with 20-bit resolution at 10 µW.",
        "early_career": False, "languages": ["sv", "ru", "en"], "orcid": _orcid(1011),
    }, [("tag", "mixed-signal")], True),
    "daniel.cohen@technion.example": ({
        "headline": "Image sensors and computational imaging",
        "bio": "SPAD arrays and time-of-flight imaging.",
        "expertise": ["image-sensors", "lidar", "signal-processing"],
        "affiliation": "Technion",
        "affiliation_history": [{"name": "Technion", "domain": "technion.ac.il", "start": "2014-10", "end": None}],
        "research_history": [_paper(2022, "SPAD time-of-flight sensor with 30 ps jitter", "publication")],
        "latest_progress": "Flash lidar prototype for short range.",
        "early_career": False, "languages": ["he", "en"], "orcid": _orcid(1012),
    }, [("tag", "image-sensors"), ("keyword", "defect")], False),
    "sofia.rossi@polimi.example": ({
        "headline": "Thin-film deposition and CMP process control",
        "bio": "ALD processes and chemical-mechanical polishing.",
        "expertise": ["thin-film-deposition", "cmp", "process-integration"],
        "affiliation": "Politecnico di Milano",
        "affiliation_history": [{"name": "Politecnico di Milano", "domain": "polimi.it", "start": "2021-01",
                                 "end": None}],
        "research_history": [_paper(2023, "Endpoint detection in copper CMP", "publication")],
        "latest_progress": "In-situ metrology for ALD of HfO2.",
        "early_career": True, "languages": ["it", "en"], "orcid": _orcid(1013),
    }, [("field", "semiconductors"), ("keyword", "wafer")], False),
    "thabo.nkosi@uct.example": ({
        "headline": "Wearable biosensors for low-resource settings",
        "bio": "Printed electrochemical sensors and wearables.",
        "expertise": ["biosensors", "wearables"],
        "affiliation": "University of Cape Town",
        "affiliation_history": [{"name": "University of Cape Town", "domain": "uct.ac.za", "start": "2020-02",
                                 "end": None}],
        "research_history": [_paper(2024, "Printed sweat-lactate sensors", "publication")],
        "latest_progress": "Field trial with 40 volunteers.",
        "early_career": True, "languages": ["en", "zu"], "orcid": _orcid(1014),
        "visibility": {"research_history": "private"},
    }, [("field", "sensors"), ("tag", "wearables")], False),
    "nguyen.an@hust.example": ({
        "headline": "Advanced packaging: chiplets and hybrid bonding",
        "bio": "Thermo-mechanical reliability of 2.5D and 3D packages.",
        "expertise": ["packaging", "chiplets", "reliability"],
        "affiliation": "Hanoi University of Science and Technology",
        "affiliation_history": [{"name": "Hanoi University of Science and Technology", "domain": "hust.edu.vn",
                                 "start": "2019-09", "end": None}],
        "research_history": [_paper(2023, "Warpage prediction for hybrid-bonded stacks", "publication")],
        "latest_progress": "Fine-pitch hybrid bonding below 5 µm.",
        "early_career": True, "languages": ["vi", "en"], "orcid": _orcid(1015),
    }, [("tag", "packaging"), ("keyword", "封装")], False),
    "liu.chen@fudan.example.cn": ({
        "headline": "气体传感器与信号处理",
        "bio": "复旦大学研究员，研究**金属氧化物气体传感器**与低功耗读出电路。",
        "expertise": ["gas-sensing", "signal-processing", "readout-circuits"],
        "affiliation": "复旦大学",
        "affiliation_history": [{"name": "复旦大学", "domain": "fudan.edu.cn", "start": "2018-07", "end": None}],
        "research_history": [_paper(2023, "基于 MEMS 微热板的低功耗气体传感器", "publication")],
        "latest_progress": "正在研究温度调制下的漂移补偿。",
        "early_career": False, "languages": ["zh_Hans", "en"], "orcid": _orcid(1016),
        "visibility": {"orcid": "private", "latest_progress": "private"},
    }, [("field", "sensors"), ("keyword", "传感器")], False),
}


def seed_profiles(password: str) -> None:
    for email, (fields, interests, digest) in PROFILES.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:  # the solver list changed: skip rather than fail the whole demo
            continue
        profiles.save_profile(user, fields, actor=user)
        for kind, value in interests:
            alerts.follow(user, kind, value, actor=user)
        if digest:
            alerts.set_digest(user, True, actor=user)
