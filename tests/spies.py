"""Calls of a function the tests watch without changing what it does."""


def calls_of(monkeypatch, owner, name):
    """The positional arguments of each call of ``owner.<name>`` from now on, a function
    of a module or a method of a class (``self`` first), which still runs as before."""
    calls = []
    original = getattr(owner, name)

    def spied(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spied)
    return calls
