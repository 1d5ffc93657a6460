"""``eggesture app``: the local web page (:mod:`.server`) and its static files (``web/``)."""
