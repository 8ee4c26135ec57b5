"""YAML IVR flows: node model, loader, validator, interpreter and simulator.

Where to start: ``loader.load_flow`` / ``library.FlowLibrary`` (files -> ``model.Flow``),
``interpreter.run_flow`` (one call, given a ``Channel`` and ``services.FlowServices``),
``validator.validate_paths`` (``ivr validate``), ``simulator`` (``ivr simulate``).
"""
