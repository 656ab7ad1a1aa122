"""Borrower-facing web pages (zh-CN first, English on request), server-rendered with Jinja2.

The pages call the same application use cases as the HTTP API; they hold no business logic.
"""
