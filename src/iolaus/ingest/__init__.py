"""Sources: each module turns one kind of input into the same platform objects and writes them
through ``iolaus.store.mirror``, so that nothing downstream depends on where data came from."""
