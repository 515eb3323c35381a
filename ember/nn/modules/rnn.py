"""RNN, LSTM, GRU and their cells."""
