"""The verbs that change a storefront's settings, one module per use case. Each is atomic and
leaves an audit row.

storefronts: create a storefront, change its settings; credentials: API keys and provider
secrets; members: invitations, roles, removal; preferences: a member's alerts; audit: the
audit log's rows.
"""
