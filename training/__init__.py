"""Training the learned parts of the extractor on the project's own gold sets.

Nothing here runs at extraction time: these scripts read gold sets, run the rule pipeline and
write model weights into ``nlp/data/``, which the extractor then reads like any other data.
"""
