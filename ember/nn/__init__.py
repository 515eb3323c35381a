"""ember.nn: modules, functional, init."""
