"""ember.cuda: is_available, device_count, current_device, set_device, synchronize, memory stats."""
