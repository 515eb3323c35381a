"""Stand-ins for the torch modules that ember has no module for, used by the torch alias of
``ember run``: ``torch.backends``, ``torch.accelerator``, ``torch.version``. A shim only exists
where ember has no real module of that name (``ember.<name>`` wins)."""
