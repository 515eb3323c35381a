"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
