"""Payment providers: who moves the money outside the platform.

| Module | Holds |
| --- | --- |
| `interface.py` | the `PaymentProvider` protocol, its value types and error contract; names no implementation |
| `registry.py` | the only module naming an implementation: `provider_from_config`, `current_provider`, ... |
| `stripe_provider.py` | Stripe: PaymentIntents fund escrow, Connect Express accounts receive Transfers |
| `stripe_formats.py` | Stripe's countries, currency units, errors and object mappings (pure) |
| `manual_provider.py` | bank wires recorded by finance officers, no network |
"""
