"""The web site and JSON API of dailypapers (FastAPI, server-rendered Jinja2 pages, no third-party JS or CSS).

Start it with ``dailypapers serve`` (or ``uvicorn dailypapers.web.app:create_app --factory``). Every page reads
the data it shows from :class:`dailypapers.library.Library`; its JSON twin under ``/api/`` serialises the same
data with :mod:`dailypapers.serialize`.
"""
