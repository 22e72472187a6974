"""camerad, the process: command line, life under systemd (signals, notify, watchdog), socket activation, demo.

The camera itself is ``firmware.camera``; the daemon makes one, serves it (``firmware.control``) and maps
signals onto its entry points: SIGUSR1 is its ``trigger``, SIGHUP its ``reload``, SIGTERM its ``stop``.
"""
