"""camctl: the operator's command-line client of camerad's control socket."""
