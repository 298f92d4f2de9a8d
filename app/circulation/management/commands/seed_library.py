"""A demo catalogue with copies: classics first, then numbered filler titles for benchmarks.

Idempotent: books are keyed by ISBN, authors by name, copies by barcode, so running it again
adds nothing (or only what a larger --books asks for). ISBNs are made up but valid.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from catalog.isbn import isbn13_check_digit
from catalog.models import Author, Book
from circulation.catalogue_version import CATALOGUE
from circulation.models import Copy

# (title, subtitle, authors, publisher, year, pages, language, description)
CLASSICS = [
    ("Pride and Prejudice", "", ["Jane Austen"], "T. Egerton", 1813, 432, "en",
     "Elizabeth Bennet and Mr Darcy misjudge each other, then think again."),
    ("Emma", "", ["Jane Austen"], "John Murray", 1815, 474, "en",
     "A confident matchmaker learns how little she sees."),
    ("Middlemarch", "A Study of Provincial Life", ["George Eliot"], "Blackwood", 1871, 880,
     "en", "Lives, marriages and ambitions in a Midlands town."),
    ("Moby-Dick", "or, The Whale", ["Herman Melville"], "Harper & Brothers", 1851, 635, "en",
     "Captain Ahab's hunt for the white whale."),
    ("Frankenstein", "or, The Modern Prometheus", ["Mary Shelley"], "Lackington", 1818, 280,
     "en", "A scientist and the creature he abandons."),
    ("Dracula", "", ["Bram Stoker"], "Archibald Constable", 1897, 418, "en",
     "Letters, diaries and a count from Transylvania."),
    ("Great Expectations", "", ["Charles Dickens"], "Chapman & Hall", 1861, 505, "en",
     "Pip, a convict, a jilted bride and the price of becoming a gentleman."),
    ("Bleak House", "", ["Charles Dickens"], "Bradbury & Evans", 1853, 928, "en",
     "A lawsuit in Chancery consumes everyone it touches."),
    ("Jane Eyre", "An Autobiography", ["Charlotte Brontë"], "Smith, Elder & Co.", 1847, 507,
     "en", "A governess, a secret and an independent mind."),
    ("Wuthering Heights", "", ["Emily Brontë"], "Thomas Cautley Newby", 1847, 416, "en",
     "Passion and revenge on the Yorkshire moors."),
    ("The Picture of Dorian Gray", "", ["Oscar Wilde"], "Ward, Lock & Co.", 1890, 254, "en",
     "A portrait ages so that its subject need not."),
    ("Les Misérables", "", ["Victor Hugo"], "A. Lacroix", 1862, 1463, "fr",
     "Jean Valjean, Javert and the barricades of Paris."),
    ("Madame Bovary", "Mœurs de province", ["Gustave Flaubert"], "Michel Lévy", 1857, 479,
     "fr", "Provincial boredom and romantic ruin."),
    ("Crime and Punishment", "", ["Fyodor Dostoevsky"], "The Russian Messenger", 1866, 671,
     "ru", "A student's crime and its long consequence."),
    ("Anna Karenina", "", ["Leo Tolstoy"], "The Russian Messenger", 1878, 864, "ru",
     "Two marriages, one society, and a train station."),
    ("Don Quixote", "", ["Miguel de Cervantes"], "Francisco de Robles", 1605, 1072, "es",
     "A knight errant, his squire and many windmills."),
    ("The Adventures of Sherlock Holmes", "", ["Arthur Conan Doyle"], "George Newnes", 1892,
     307, "en", "Twelve cases from 221B Baker Street."),
    ("The Time Machine", "", ["H. G. Wells"], "William Heinemann", 1895, 118, "en",
     "A traveller visits the year 802,701."),
    ("Heart of Darkness", "", ["Joseph Conrad"], "Blackwood", 1899, 96, "en",
     "A journey up the Congo River."),
    ("Little Women", "", ["Louisa May Alcott"], "Roberts Brothers", 1868, 759, "en",
     "Four sisters grow up during and after the Civil War."),
    ("The Adventures of Huckleberry Finn", "", ["Mark Twain"], "Chatto & Windus", 1884, 366,
     "en", "Huck and Jim on a raft down the Mississippi."),
    ("Good Omens", "", ["Terry Pratchett", "Neil Gaiman"], "Gollancz", 1990, 288, "en",
     "An angel and a demon would rather the world did not end."),
    ("The Federalist Papers", "", ["Alexander Hamilton", "James Madison", "John Jay"],
     "J. & A. McLean", 1788, 624, "en", "Eighty-five essays for the US Constitution."),
    ("Faust", "Eine Tragödie", ["Johann Wolfgang von Goethe"], "Cotta", 1808, 352, "de",
     "A scholar's wager with Mephistopheles."),
]

LOCATIONS = ["Main library, ground floor", "Main library, first floor", "Riverside branch",
             "Hillcrest branch"]


def demo_isbn(index: int) -> str:
    first12 = f"979{index:09d}"
    return first12 + isbn13_check_digit(first12)


def book_spec(index: int) -> dict:
    if index < len(CLASSICS):
        title, subtitle, authors, publisher, year, pages, language, description = CLASSICS[index]
    else:
        number = index + 1
        title, subtitle = f"Collected Essays, Volume {number}", "Demonstration title"
        authors = [f"Demo Author {number % 97 + 1}"]
        publisher, year, pages, language = "Stacks Demo Press", 1950 + number % 70, 100, "en"
        pages += number % 400
        description = "A generated title, so that lists and benchmarks have pages to turn."
    return {
        "isbn": demo_isbn(index + 1),
        "authors": authors,
        "defaults": {
            "title": title, "subtitle": subtitle, "publisher": publisher,
            "publication_date": datetime.date(year, 1, 1), "page_count": pages,
            "language": language, "description": description,
        },
    }


def copy_count(index: int, per_book: int) -> int:
    """Copies of book `index`: one fewer to one more than `per_book`, so shelves differ."""
    return max(0, per_book - 1 + index % 3)


def copy_status(index: int, n: int) -> str:
    return Copy.Status.REFERENCE if index % 11 == 5 and n == 1 else Copy.Status.CIRCULATING


class Command(BaseCommand):
    help = "Load a demo catalogue with copies (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--books", type=int, default=len(CLASSICS),
                            help=f"how many books (default {len(CLASSICS)}: the classics)")
        parser.add_argument("--copies-per-book", type=int, default=2,
                            help="copies per book on average, each book one fewer to one more "
                                 "(default 2; 3 gives 30 000 copies for 10 000 books)")

    def handle(self, *args, books, copies_per_book, **options):
        if books < 0 or books > 100_000:
            raise CommandError("--books must be between 0 and 100000")
        if copies_per_book < 1 or copies_per_book > 20:
            raise CommandError("--copies-per-book must be between 1 and 20")
        with transaction.atomic():
            created_books = self.add_books([book_spec(index) for index in range(books)])
            created_copies = self.add_copies(books, copies_per_book)
            CATALOGUE.changed()  # bulk_create sends no signals
        self.stdout.write(
            f"seed_library: {created_books} books and {created_copies} copies added "
            f"({Book.objects.count()} books, {Copy.objects.count()} copies in total)"
        )

    # Rows go in with bulk_create, a few queries per thousand rows: a 10 000-book catalogue
    # for the benchmark takes seconds, where a save() per row took minutes.
    @staticmethod
    def add_books(specs: list[dict]) -> int:
        existing = set(Book.objects.values_list("isbn", flat=True))
        new = [spec for spec in specs if spec["isbn"] not in existing]
        Book.objects.bulk_create(
            (Book(isbn=spec["isbn"], **spec["defaults"]) for spec in new), batch_size=1000)
        names = {name for spec in new for name in spec["authors"]}
        known = set(Author.objects.filter(name__in=names).values_list("name", flat=True))
        Author.objects.bulk_create(Author(name=name) for name in sorted(names - known))
        # Ids looked up, not taken from bulk_create: SQLite (make run) may not return them.
        author_ids = dict(Author.objects.filter(name__in=names).values_list("name", "id"))
        book_ids = dict(Book.objects.values_list("isbn", "id"))
        Book.authors.through.objects.bulk_create(
            (Book.authors.through(book_id=book_ids[spec["isbn"]], author_id=author_ids[name])
             for spec in new for name in spec["authors"]),
            batch_size=1000,
        )
        return len(new)

    @staticmethod
    def add_copies(books: int, per_book: int) -> int:
        barcodes = set(Copy.objects.values_list("barcode", flat=True))
        book_ids = dict(Book.objects.values_list("isbn", "id"))
        new = [
            Copy(barcode=barcode, book_id=book_ids[demo_isbn(index + 1)],
                 status=copy_status(index, n), location=LOCATIONS[(index + n) % len(LOCATIONS)])
            for index in range(books)
            for n in range(1, copy_count(index, per_book) + 1)
            if (barcode := f"S{index + 1:06d}-{n}") not in barcodes
        ]
        Copy.objects.bulk_create(new, batch_size=1000)
        return len(new)
