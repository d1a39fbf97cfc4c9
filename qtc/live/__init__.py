"""Live trading: brokers, order plans, execution and the audit log (DESIGN §8)."""
