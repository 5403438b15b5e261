"""Stock per shop: levels, the ledger, and (with checkout) holds. The only code that changes stock."""
