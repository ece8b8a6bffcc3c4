"""placeholder"""

def register(app, api) -> None:
    pass
