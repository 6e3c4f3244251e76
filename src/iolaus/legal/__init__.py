"""Legal duties that produce records: DSA statements of reasons (Arts. 17, 24(5)) and the
internal complaint-handling system (Art. 20). Enumerations and code lists are data files beside
this package, so a schema change at the Transparency Database is a data change, not a code one.
"""
