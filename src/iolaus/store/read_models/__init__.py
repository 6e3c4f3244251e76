"""Read models: what a page or an answer shows, read in one place and returned as typed values.

Each module serves one view (the console's case dossier, its appeals page, the public appeal
pages), so that the web layer renders and never queries; the domain packages keep the writes.
"""
