"""The command line (`oee-edge`): its commands (`main`), running the daemon with the API
and config reload (`serve`), the bundled demo (`demo`) and `check --connect`
(`check_connect`). The composition root: the only part of `edge/` that imports `api/`
and `simulators/`."""
