"""ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad modules."""
