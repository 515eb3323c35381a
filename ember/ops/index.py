"""Indexing: __getitem__/__setitem__ (basic, advanced, boolean, mixed), gather/scatter, index_select/index_add, masked ops, nonzero, where."""
