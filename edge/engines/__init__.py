"""Engines: the stages after the normalisers that turn the machines' events into figures
(`core.interfaces.Engine`). `oee` keeps every machine's OEE over every window and `lines`
rolls them up per line. A new engine (SPC, orders, energy) is a module here and an entry
in `edge.pipeline.components.ENGINES`; its pure figures live in `oee/`.
"""
