"""`flask demo seed`: a believable demo in an empty database."""


def register(app, api) -> None:
    from marketplace.demo import cli

    app.cli.add_command(cli.demo_cli)
