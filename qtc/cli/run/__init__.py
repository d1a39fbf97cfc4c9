"""`qtc backtest|report`: run a strategy on the lake and render the result, one module each."""
