"""The control socket: camerad's JSON-lines protocol (``protocol``), its server and methods, and a client.

Transport only: each method checks its parameters and calls the camera (``firmware.camera``); the preview page
(``web``) goes through the same methods.

camctl (``firmware.camctl``) is its command-line client; ``docs/control-protocol.md`` documents every method.
"""
