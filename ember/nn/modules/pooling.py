"""Max/Avg/AdaptiveAvg/AdaptiveMax/LP pooling modules."""
