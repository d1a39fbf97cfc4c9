"""`qtc rebalance|positions|reconcile|kill`: trading at a broker; one module per command."""
