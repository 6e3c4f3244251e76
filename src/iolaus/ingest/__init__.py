"""Sources and what becomes of their input: ``source.py`` (the seam every source implements),
``write.py`` (units of events into the store's one writer), the built-in sources
(``discord_export.py``) and the media subscribers (``subscribers.py``, ``media.py``), so that
nothing downstream depends on where data came from."""
