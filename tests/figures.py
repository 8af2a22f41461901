"""What corpus/ holds, in one place: tests that count pages or terms read these (change them
here when a page is added to corpus/)."""

CORPUS_PAGES = 75  # every file under corpus/ is a page
CORPUS_SERVED_PAGES = 74  # one of them is a draft
CORPUS_TERMS = 30  # tags, categories and concepts, with and without their own page
