"""Full-text search (Whoosh + jieba): the engine in `engine`, the analyzer in
`analysis`, the `flask search reindex` command factory in `cli`."""


def register(app, api) -> None:
    pass
