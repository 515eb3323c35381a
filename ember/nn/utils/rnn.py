"""pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence, PackedSequence."""
