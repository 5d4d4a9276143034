"""Pictures of the field (issue 24): the topic map (layout, clusters and their labels), rising topics, and each
paper's key phrases and key sentence — all computed from the embeddings and abstracts by jobs, never written by a
language model. ``lib.topics`` (:class:`dailypapers.topics.service.Topics`) is the service the web and CLI call;
docs/topics.md says how each part is made and what it costs.
"""
