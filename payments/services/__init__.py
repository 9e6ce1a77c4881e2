"""What happens to payments and lost sales, one module per use case.

ingest: provider webhook events applied to payments and lost sales; recovery: the buyer's
recovery emails and link; alerts: the members' alerts and daily digests; merchant: what the
storefront's team does to a sale; display: amounts and links as emails and pages show them.
"""
