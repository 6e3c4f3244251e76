"""Text signals: what a message, a channel name or a community description says.

Abusers write to be read by people and missed by machines: ``tr1b``, ``t.r.i.b``, ``nuuudes``,
Cyrillic letters that look Latin, zero-width characters inside words. So every detector here
works on one canonical form of the text, :func:`iolaus.signals.normalise.normalise`, and the
lexicon (:mod:`iolaus.signals.lexicon`) is normalised with the same function, so that a term
matches however it was disguised. The rules (:mod:`iolaus.signals.rules`) then combine lexicon
hits (an age indicator alone is not a signal; with a sexual term it is) into signals with an
explanation that quotes the original words.
"""
