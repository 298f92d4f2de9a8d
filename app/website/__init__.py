"""The public website: the catalogue's pages, with each book's copies and availability."""
