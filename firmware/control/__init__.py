"""The control socket: camerad's JSON-lines protocol (``protocol``), its server and methods, and a client.

camctl (``firmware.camctl``) is its command-line client; ``docs/control-protocol.md`` documents every method.
"""
