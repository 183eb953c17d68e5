/* PubMed XML to raw citation fields in one expat pass, without building a tree.
 *
 * Why C: the lxml reader spends most of its time building a tree of every element and creating a Python
 * proxy for each one it reads; a baseline file has ~110 elements per citation and the fields need ~40.
 * Here expat (the copy inside Python's own pyexpat, reached through its exported C API, so no library is
 * linked) calls C handlers that keep only what corpus.pubmed_xml reads, with the same rules: the first
 * element of a kind where the lxml reader takes the first, every one where it takes all, texts flattened
 * over inline markup and stripped. Python turns each RawCitation into an Article (corpus.pubmed_xml), so
 * both readers share that step. A <PubmedBookArticle> is rare and read in full: it is written back out
 * as XML and handed to the lxml code.
 *
 * Scanner(raw_citation_type).feed(bytes) -> list of (kind, payload) records completed by these bytes;
 * .close() the same at the end; .error is None or (kind, message, line, column) once parsing has failed;
 * .root is the root element's name.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* expat's API, as pyexpat.h expects it (expat.h itself is not shipped with Python). */
typedef struct XML_ParserStruct *XML_Parser;
typedef char XML_Char;
typedef char XML_LChar;
typedef unsigned long XML_Size;
enum XML_Status { XML_STATUS_ERROR = 0, XML_STATUS_OK = 1, XML_STATUS_SUSPENDED = 2 };
enum XML_Error { XML_ERROR_NONE = 0 };
typedef struct { void *(*malloc_fcn)(size_t); void *(*realloc_fcn)(void *, size_t); void (*free_fcn)(void *); }
    XML_Memory_Handling_Suite;
typedef struct XML_Encoding XML_Encoding;
typedef void (*XML_StartElementHandler)(void *, const XML_Char *, const XML_Char **);
typedef void (*XML_EndElementHandler)(void *, const XML_Char *);
typedef void (*XML_CharacterDataHandler)(void *, const XML_Char *, int);
typedef void (*XML_CommentHandler)(void *, const XML_Char *);
typedef void (*XML_DefaultHandler)(void *, const XML_Char *, int);
typedef void (*XML_StartNamespaceDeclHandler)(void *, const XML_Char *, const XML_Char *);
typedef void (*XML_EndNamespaceDeclHandler)(void *, const XML_Char *);
typedef void (*XML_ProcessingInstructionHandler)(void *, const XML_Char *, const XML_Char *);
typedef int (*XML_UnknownEncodingHandler)(void *, const XML_Char *, XML_Encoding *);
typedef void (*XML_StartDoctypeDeclHandler)(void *, const XML_Char *, const XML_Char *, const XML_Char *, int);
#include <pyexpat.h>

static struct PyExpat_CAPI *expat;

#define MAX_DEPTH 256               /* libxml2's limit without XML_PARSE_HUGE, which the lxml reader keeps */
#define MAX_TEXT 10000000           /* libxml2's limit on one text node, likewise */
#define NS_SEPARATOR '}'            /* "uri}local" for namespaced names; PubMed's own names have none */

/* What an element is to the extraction, decided from its parent's role and its name. */
enum role {
    R_OUTSIDE, R_IGNORE, R_TEXT, R_INLINE, R_BOOK,
    R_PUBMED_ARTICLE, R_CITATION, R_PUBMED_DATA, R_ARTICLE, R_AUTHOR_LIST, R_AUTHOR, R_JOURNAL,
    R_JOURNAL_ISSUE, R_DATE, R_ABSTRACT, R_PUBTYPE_LIST, R_MESH_LIST, R_MESH_HEADING, R_KEYWORD_LIST,
    R_JOURNAL_INFO, R_COMMENTS_LIST, R_ARTICLE_ID_LIST, R_HISTORY, R_DELETE,
};

/* Which field a text element fills. */
enum leaf {
    L_PMID, L_TITLE, L_VERNACULAR, L_ABSTRACT_TEXT, L_LANGUAGE, L_ELOCATION, L_PUBTYPE,
    L_LAST, L_FORE, L_INITIALS, L_COLLECTIVE, L_SUFFIX, L_JOURNAL_TITLE, L_ISO_ABBREV,
    L_YEAR, L_MONTH, L_DAY, L_SEASON, L_MEDLINE_DATE, L_DESCRIPTOR, L_QUALIFIER, L_OTHER_ID,
    L_KEYWORD, L_MEDLINE_TA, L_ARTICLE_ID, L_DELETE_PMID, L_ERROR,
};

enum date_slot { D_ISSUE, D_ARTICLE, D_PUBMED };
enum author_part { A_LAST, A_FORE, A_INITIALS, A_COLLECTIVE, A_SUFFIX, A_PARTS };

typedef struct { char *data; size_t len, cap; } Buffer;

/* The fields of one citation, in RawCitation's order (corpus/pubmed_xml.py); NULL: element absent. */
enum field {
    F_PMID, F_VERSION, F_STATUS, F_HAS_ARTICLE, F_TITLE, F_VERNACULAR, F_SECTIONS, F_AUTHORS, F_HAS_JOURNAL,
    F_JOURNAL_TITLE, F_JOURNAL_ABBREV, F_ISSUE_DATE, F_MEDLINE_TA, F_ARTICLE_DATE, F_PUBMED_DATE,
    F_PUBLICATION_TYPES, F_ELOCATION_DOI, F_ARTICLE_DOI, F_ARTICLE_PMC, F_NLM_OTHER_IDS, F_MESH, F_KEYWORDS,
    F_LANGUAGE, F_RETRACTION, F_COUNT,
};

typedef struct {
    PyObject_HEAD
    XML_Parser parser;
    PyObject *raw_type;
    PyObject *records;
    PyObject *root;
    PyObject *error;
    int failed;                      /* a handler failed: later callbacks do nothing */
    PyObject *exc_type, *exc_value, *exc_tb;
    int depth;
    unsigned char roles[MAX_DEPTH + 1];
    size_t text_run;                 /* contiguous character data so far, for the 10 MB limit */
    size_t unreported;               /* bytes fed since the last handler call: one token's length, at least */
    /* the text element being read */
    int leaf, leaf_depth;
    Buffer text;
    PyObject *attr_a, *attr_b;       /* its attributes that matter (label, category, ...) */
    int flag;                        /* a yes/no attribute of it */
    /* the record being read */
    int record_role, in_record;
    int seen_citation, seen_pubmed_data, seen_article, seen_journal, seen_abstract, seen_article_date;
    PyObject *fields[F_COUNT];
    PyObject *deleted;
    Buffer book;
    /* the author, date and MeSH heading being read */
    PyObject *author[A_PARTS];
    int date_slot;
    PyObject *date[5];
    PyObject *descriptor, *descriptor_ui, *qualifiers;
    int descriptor_seen, heading_major;
} Scanner;

/* ------------------------------------------------------------------------------------------ helpers */

static int buffer_add(Buffer *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        char *grown = PyMem_Realloc(b->data, cap);
        if (!grown) { PyErr_NoMemory(); return -1; }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static void fail(Scanner *s, const char *kind, const char *message) {
    if (s->failed) return;
    s->failed = 1;
    if (kind) {
        Py_XSETREF(s->error, Py_BuildValue("(ssnn)", kind, message,
                                            (Py_ssize_t)expat->GetErrorLineNumber(s->parser),
                                            (Py_ssize_t)expat->GetErrorColumnNumber(s->parser)));
    } else {                        /* a Python error (memory): raised from feed() */
        PyErr_Fetch(&s->exc_type, &s->exc_value, &s->exc_tb);
    }
}

static const char *attr(const char **atts, const char *key) {
    for (; *atts; atts += 2)
        if (strcmp(atts[0], key) == 0) return atts[1];
    return NULL;
}

static PyObject *attr_str(const char **atts, const char *key) {
    const char *value = attr(atts, key);
    if (!value) Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(value, strlen(value), NULL);
}

/* str.strip() of the text read so far (expat hands over valid UTF-8). */
static PyObject *stripped_text(Scanner *s) {
    PyObject *text = PyUnicode_DecodeUTF8(s->text.data ? s->text.data : "", s->text.len, NULL);
    if (!text) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0, end = n;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    while (start < end && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, start))) start++;
    while (end > start && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, end - 1))) end--;
    if (start == 0 && end == n) return text;
    PyObject *part = PyUnicode_Substring(text, start, end);
    Py_DECREF(text);
    return part;
}

static int set_first(PyObject **slot, PyObject *value) {  /* steals value */
    if (*slot == NULL) *slot = value;
    else Py_DECREF(value);
    return 0;
}

static int append(PyObject **list, PyObject *value) {  /* steals value; creates the list */
    if (!*list && !(*list = PyList_New(0))) { Py_DECREF(value); return -1; }
    int rc = PyList_Append(*list, value);
    Py_DECREF(value);
    return rc;
}

static void clear_record(Scanner *s) {
    for (int i = 0; i < F_COUNT; i++) Py_CLEAR(s->fields[i]);
    for (int i = 0; i < A_PARTS; i++) Py_CLEAR(s->author[i]);
    for (int i = 0; i < 5; i++) Py_CLEAR(s->date[i]);
    Py_CLEAR(s->deleted);
    Py_CLEAR(s->descriptor);
    Py_CLEAR(s->descriptor_ui);
    Py_CLEAR(s->qualifiers);
    Py_CLEAR(s->attr_a);
    Py_CLEAR(s->attr_b);
    s->seen_citation = s->seen_pubmed_data = s->seen_article = s->seen_journal = 0;
    s->seen_abstract = s->seen_article_date = 0;
    s->book.len = 0;
    s->in_record = 0;
}

static int emit(Scanner *s, const char *kind, PyObject *payload) {  /* steals payload */
    if (!payload) return -1;
    PyObject *record = Py_BuildValue("(sN)", kind, payload);
    if (!record) return -1;
    int rc = PyList_Append(s->records, record);
    Py_DECREF(record);
    return rc;
}

static PyObject *list_or_empty(PyObject *list) {
    if (list) { Py_INCREF(list); return list; }
    return PyList_New(0);
}

static PyObject *or_none(PyObject *value) {
    if (!value) value = Py_None;
    Py_INCREF(value);
    return value;
}

static int emit_citation(Scanner *s) {
    PyObject *args = PyTuple_New(F_COUNT);
    if (!args) return -1;
    for (int i = 0; i < F_COUNT; i++) {
        PyObject *value;
        switch (i) {
        case F_SECTIONS: case F_AUTHORS: case F_PUBLICATION_TYPES: case F_NLM_OTHER_IDS: case F_MESH:
        case F_KEYWORDS:
            value = list_or_empty(s->fields[i]);
            break;
        case F_STATUS:  /* the attribute, "" when absent */
            value = s->fields[i] && s->fields[i] != Py_None ? (Py_INCREF(s->fields[i]), s->fields[i])
                                                              : PyUnicode_FromString("");
            break;
        case F_HAS_ARTICLE: value = PyBool_FromLong(s->seen_article); break;
        case F_HAS_JOURNAL: value = PyBool_FromLong(s->seen_journal); break;
        case F_RETRACTION: value = PyBool_FromLong(s->fields[i] != NULL); break;
        default: value = or_none(s->fields[i]);
        }
        if (!value) { Py_DECREF(args); return -1; }
        PyTuple_SET_ITEM(args, i, value);
    }
    PyObject *raw = PyObject_Call(s->raw_type, args, NULL);
    Py_DECREF(args);
    return emit(s, "citation", raw);
}

/* ------------------------------------------------------------------ a book, written back out as XML */

static int book_escaped(Buffer *b, const char *text, size_t n, int in_attribute) {
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        const char *entity = NULL;
        switch (text[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '\r': entity = "&#13;"; break;
        case '"': if (in_attribute) entity = "&quot;"; break;
        case '\t': if (in_attribute) entity = "&#9;"; break;
        case '\n': if (in_attribute) entity = "&#10;"; break;
        }
        if (entity) {
            if (buffer_add(b, text + done, i - done) < 0 || buffer_add(b, entity, strlen(entity)) < 0) return -1;
            done = i + 1;
        }
    }
    return buffer_add(b, text + done, n - done);
}

/* Namespaced elements (MathML) keep their text but lose their tags: the book reader only flattens them. */
static int book_start(Scanner *s, const char *name, const char **atts) {
    if (strchr(name, NS_SEPARATOR)) return 0;
    if (buffer_add(&s->book, "<", 1) < 0 || buffer_add(&s->book, name, strlen(name)) < 0) return -1;
    for (; *atts; atts += 2) {
        if (strchr(atts[0], NS_SEPARATOR)) continue;
        if (buffer_add(&s->book, " ", 1) < 0 || buffer_add(&s->book, atts[0], strlen(atts[0])) < 0
            || buffer_add(&s->book, "=\"", 2) < 0 || book_escaped(&s->book, atts[1], strlen(atts[1]), 1) < 0
            || buffer_add(&s->book, "\"", 1) < 0)
            return -1;
    }
    return buffer_add(&s->book, ">", 1);
}

static int book_end(Scanner *s, const char *name) {
    if (strchr(name, NS_SEPARATOR)) return 0;
    if (buffer_add(&s->book, "</", 2) < 0 || buffer_add(&s->book, name, strlen(name)) < 0) return -1;
    return buffer_add(&s->book, ">", 1);
}

/* ------------------------------------------------------------------------------- element handlers */

static int leaf(Scanner *s, int kind) {
    s->leaf = kind;
    s->leaf_depth = s->depth;
    s->text.len = 0;
    return R_TEXT;
}

static int date_part(const char *name) {
    if (!strcmp(name, "Year")) return L_YEAR;
    if (!strcmp(name, "Month")) return L_MONTH;
    if (!strcmp(name, "Day")) return L_DAY;
    if (!strcmp(name, "Season")) return L_SEASON;
    if (!strcmp(name, "MedlineDate")) return L_MEDLINE_DATE;
    return -1;
}

static int start_date(Scanner *s, int slot) {
    s->date_slot = slot;
    for (int i = 0; i < 5; i++) Py_CLEAR(s->date[i]);
    return R_DATE;
}

static int record_start(Scanner *s, const char *name, const char **atts) {
    int role = R_OUTSIDE;
    if (!strcmp(name, "PubmedArticle")) role = R_PUBMED_ARTICLE;
    else if (!strcmp(name, "MedlineCitation")) role = R_CITATION;
    else if (!strcmp(name, "DeleteCitation")) role = R_DELETE;
    else if (!strcmp(name, "PubmedBookArticle")) role = R_BOOK;
    else if (!strcmp(name, "ERROR")) { s->in_record = 1; s->record_role = R_TEXT; return leaf(s, L_ERROR); }
    if (role == R_OUTSIDE) return role;
    clear_record(s);
    s->in_record = 1;
    s->record_role = role;
    if (role == R_CITATION) s->fields[F_STATUS] = attr_str(atts, "Status");
    if (role == R_BOOK && book_start(s, name, atts) < 0) return -1;
    return role;
}

/* The role of a child element of a ``parent`` element; -1 on a Python error. */
static int child_role(Scanner *s, int parent, const char *name, const char **atts) {
    switch (parent) {
    case R_OUTSIDE:
        return record_start(s, name, atts);
    case R_PUBMED_ARTICLE:
        if (!strcmp(name, "MedlineCitation") && !s->seen_citation) {
            s->seen_citation = 1;
            s->fields[F_STATUS] = attr_str(atts, "Status");
            return R_CITATION;
        }
        if (!strcmp(name, "PubmedData") && !s->seen_pubmed_data) { s->seen_pubmed_data = 1; return R_PUBMED_DATA; }
        return R_IGNORE;
    case R_CITATION:
        switch (name[0]) {
        case 'P':
            if (!strcmp(name, "PMID") && !s->fields[F_PMID]) {
                Py_XSETREF(s->fields[F_VERSION], attr_str(atts, "Version"));
                return leaf(s, L_PMID);
            }
            break;
        case 'A':
            if (!strcmp(name, "Article") && !s->seen_article) { s->seen_article = 1; return R_ARTICLE; }
            break;
        case 'M':
            if (!strcmp(name, "MeshHeadingList")) return R_MESH_LIST;
            if (!strcmp(name, "MedlineJournalInfo")) return R_JOURNAL_INFO;
            break;
        case 'O':
            if (!strcmp(name, "OtherID")) {
                const char *source = attr(atts, "Source");
                s->flag = source && !strcmp(source, "NLM");
                return leaf(s, L_OTHER_ID);
            }
            break;
        case 'K':
            if (!strcmp(name, "KeywordList")) return R_KEYWORD_LIST;
            break;
        case 'C':
            if (!strcmp(name, "CommentsCorrectionsList")) return R_COMMENTS_LIST;
            break;
        }
        return R_IGNORE;
    case R_ARTICLE:
        switch (name[0]) {
        case 'A':
            if (!strcmp(name, "AuthorList")) return R_AUTHOR_LIST;
            if (!strcmp(name, "ArticleTitle")) return s->fields[F_TITLE] ? R_IGNORE : leaf(s, L_TITLE);
            if (!strcmp(name, "Abstract") && !s->seen_abstract) { s->seen_abstract = 1; return R_ABSTRACT; }
            if (!strcmp(name, "ArticleDate") && !s->seen_article_date) {
                s->seen_article_date = 1;
                return start_date(s, D_ARTICLE);
            }
            break;
        case 'J':
            if (!strcmp(name, "Journal") && !s->seen_journal) { s->seen_journal = 1; return R_JOURNAL; }
            break;
        case 'P':
            if (!strcmp(name, "PublicationTypeList")) return R_PUBTYPE_LIST;
            break;
        case 'E':
            if (!strcmp(name, "ELocationID")) {
                const char *type = attr(atts, "EIdType"), *valid = attr(atts, "ValidYN");
                s->flag = type && !strcmp(type, "doi") && !(valid && !strcmp(valid, "N"));
                return leaf(s, L_ELOCATION);
            }
            break;
        case 'L':
            if (!strcmp(name, "Language")) return s->fields[F_LANGUAGE] ? R_IGNORE : leaf(s, L_LANGUAGE);
            break;
        case 'V':
            if (!strcmp(name, "VernacularTitle")) return s->fields[F_VERNACULAR] ? R_IGNORE : leaf(s, L_VERNACULAR);
            break;
        }
        return R_IGNORE;
    case R_AUTHOR_LIST:
        if (!strcmp(name, "Author")) {
            const char *valid = attr(atts, "ValidYN");
            if (valid && !strcmp(valid, "N")) return R_IGNORE;
            for (int i = 0; i < A_PARTS; i++) Py_CLEAR(s->author[i]);
            return R_AUTHOR;
        }
        return R_IGNORE;
    case R_AUTHOR: {
        int part = -1;
        if (!strcmp(name, "LastName")) part = A_LAST;
        else if (!strcmp(name, "ForeName")) part = A_FORE;
        else if (!strcmp(name, "Initials")) part = A_INITIALS;
        else if (!strcmp(name, "CollectiveName")) part = A_COLLECTIVE;
        else if (!strcmp(name, "Suffix")) part = A_SUFFIX;
        if (part < 0 || s->author[part]) return R_IGNORE;
        return leaf(s, L_LAST + part);
    }
    case R_JOURNAL:
        if (!strcmp(name, "Title")) return s->fields[F_JOURNAL_TITLE] ? R_IGNORE : leaf(s, L_JOURNAL_TITLE);
        if (!strcmp(name, "ISOAbbreviation")) return s->fields[F_JOURNAL_ABBREV] ? R_IGNORE : leaf(s, L_ISO_ABBREV);
        if (!strcmp(name, "JournalIssue") && !s->fields[F_ISSUE_DATE]) return R_JOURNAL_ISSUE;
        return R_IGNORE;
    case R_JOURNAL_ISSUE:
        if (!strcmp(name, "PubDate") && !s->fields[F_ISSUE_DATE]) {
            Py_INCREF(Py_None);
            s->fields[F_ISSUE_DATE] = Py_None;  /* found: later PubDates are not read; filled at its end */
            return start_date(s, D_ISSUE);
        }
        return R_IGNORE;
    case R_DATE: {
        int part = date_part(name);
        if (part < 0 || s->date[part - L_YEAR]) return R_IGNORE;
        return leaf(s, part);
    }
    case R_ABSTRACT:
        if (!strcmp(name, "AbstractText")) {
            Py_XSETREF(s->attr_a, attr_str(atts, "Label"));
            Py_XSETREF(s->attr_b, attr_str(atts, "NlmCategory"));
            if (!s->attr_a || !s->attr_b) return -1;
            return leaf(s, L_ABSTRACT_TEXT);
        }
        return R_IGNORE;
    case R_PUBTYPE_LIST:
        return strcmp(name, "PublicationType") ? R_IGNORE : leaf(s, L_PUBTYPE);
    case R_MESH_LIST:
        if (!strcmp(name, "MeshHeading")) {
            Py_CLEAR(s->descriptor);
            Py_CLEAR(s->descriptor_ui);
            Py_CLEAR(s->qualifiers);
            s->descriptor_seen = s->heading_major = 0;
            return R_MESH_HEADING;
        }
        return R_IGNORE;
    case R_MESH_HEADING: {
        const char *major = attr(atts, "MajorTopicYN");
        int is_major = major && !strcmp(major, "Y");
        if (!strcmp(name, "QualifierName")) {
            s->heading_major |= is_major;
            return leaf(s, L_QUALIFIER);
        }
        if (!strcmp(name, "DescriptorName") && !s->descriptor_seen) {
            s->descriptor_seen = 1;
            s->heading_major |= is_major;
            s->descriptor_ui = attr_str(atts, "UI");
            return s->descriptor_ui ? leaf(s, L_DESCRIPTOR) : -1;
        }
        return R_IGNORE;
    }
    case R_KEYWORD_LIST:
        return strcmp(name, "Keyword") ? R_IGNORE : leaf(s, L_KEYWORD);
    case R_JOURNAL_INFO:
        return strcmp(name, "MedlineTA") || s->fields[F_MEDLINE_TA] ? R_IGNORE : leaf(s, L_MEDLINE_TA);
    case R_COMMENTS_LIST:
        if (!strcmp(name, "CommentsCorrections") && !s->fields[F_RETRACTION]) {
            const char *type = attr(atts, "RefType");
            if (type && !strcmp(type, "RetractionIn")) { Py_INCREF(Py_True); s->fields[F_RETRACTION] = Py_True; }
        }
        return R_IGNORE;
    case R_PUBMED_DATA:
        if (!strcmp(name, "ArticleIdList")) return R_ARTICLE_ID_LIST;
        if (!strcmp(name, "History")) return R_HISTORY;
        return R_IGNORE;
    case R_ARTICLE_ID_LIST:
        if (!strcmp(name, "ArticleId")) {
            const char *type = attr(atts, "IdType");
            s->flag = !type ? 0 : !strcmp(type, "doi") ? 1 : !strcmp(type, "pmc") ? 2 : 0;
            return s->flag ? leaf(s, L_ARTICLE_ID) : R_IGNORE;
        }
        return R_IGNORE;
    case R_HISTORY:
        if (!strcmp(name, "PubMedPubDate") && !s->fields[F_PUBMED_DATE]) {
            const char *status = attr(atts, "PubStatus");
            if (status && !strcmp(status, "pubmed")) {
                Py_INCREF(Py_None);
                s->fields[F_PUBMED_DATE] = Py_None;
                return start_date(s, D_PUBMED);
            }
        }
        return R_IGNORE;
    case R_DELETE:
        return strcmp(name, "PMID") ? R_IGNORE : leaf(s, L_DELETE_PMID);
    }
    return R_IGNORE;
}

/* A text element has ended: put its text where it belongs. */
static int finish_leaf(Scanner *s) {
    if (s->leaf == L_ERROR) {
        PyObject *raw = PyUnicode_DecodeUTF8(s->text.data ? s->text.data : "", s->text.len, NULL);
        s->in_record = 0;
        return emit(s, "error", raw);
    }
    PyObject *text = stripped_text(s);
    if (!text) return -1;
    int empty = PyUnicode_GET_LENGTH(text) == 0;
    switch (s->leaf) {
    case L_PMID: return set_first(&s->fields[F_PMID], text);
    case L_TITLE: return set_first(&s->fields[F_TITLE], text);
    case L_VERNACULAR: return set_first(&s->fields[F_VERNACULAR], text);
    case L_LANGUAGE: return set_first(&s->fields[F_LANGUAGE], text);
    case L_JOURNAL_TITLE: return set_first(&s->fields[F_JOURNAL_TITLE], text);
    case L_ISO_ABBREV: return set_first(&s->fields[F_JOURNAL_ABBREV], text);
    case L_MEDLINE_TA: return set_first(&s->fields[F_MEDLINE_TA], text);
    case L_PUBTYPE: return append(&s->fields[F_PUBLICATION_TYPES], text);
    case L_KEYWORD:
        if (empty) { Py_DECREF(text); return 0; }
        return append(&s->fields[F_KEYWORDS], text);
    case L_DELETE_PMID:
        if (empty) { Py_DECREF(text); return 0; }
        return append(&s->deleted, text);
    case L_OTHER_ID:
        if (!s->flag) { Py_DECREF(text); return 0; }
        return append(&s->fields[F_NLM_OTHER_IDS], text);
    case L_ELOCATION:
        if (!s->flag || empty) { Py_DECREF(text); return 0; }
        return set_first(&s->fields[F_ELOCATION_DOI], text);
    case L_ARTICLE_ID:
        if (empty) { Py_DECREF(text); return 0; }
        return set_first(&s->fields[s->flag == 1 ? F_ARTICLE_DOI : F_ARTICLE_PMC], text);
    case L_ABSTRACT_TEXT: {
        PyObject *label = s->attr_a, *category = s->attr_b;
        if (label != Py_None && PyUnicode_GET_LENGTH(label) == 0) label = Py_None;
        if (category != Py_None && PyUnicode_GET_LENGTH(category) == 0) category = Py_None;
        PyObject *section = PyTuple_Pack(3, label, category, text);
        Py_DECREF(text);
        Py_CLEAR(s->attr_a);
        Py_CLEAR(s->attr_b);
        return section ? append(&s->fields[F_SECTIONS], section) : -1;
    }
    case L_DESCRIPTOR: return set_first(&s->descriptor, text);
    case L_QUALIFIER:
        if (empty) { Py_DECREF(text); return 0; }
        return append(&s->qualifiers, text);
    default:
        if (s->leaf >= L_LAST && s->leaf <= L_SUFFIX) return set_first(&s->author[s->leaf - L_LAST], text);
        if (s->leaf >= L_YEAR && s->leaf <= L_MEDLINE_DATE) {
            if (empty) { Py_DECREF(text); text = Py_None; Py_INCREF(text); }
            return set_first(&s->date[s->leaf - L_YEAR], text);
        }
    }
    Py_DECREF(text);
    return 0;
}

/* "LastName Initials" as PubMed prints it, or the collective name; None when there is neither. */
static int finish_author(Scanner *s) {
    PyObject *collective = s->author[A_COLLECTIVE];
    if (collective && PyUnicode_GET_LENGTH(collective)) {
        Py_INCREF(collective);
        return append(&s->fields[F_AUTHORS], collective);
    }
    PyObject *initials = s->author[A_INITIALS];
    if (!initials || !PyUnicode_GET_LENGTH(initials)) initials = s->author[A_FORE];
    PyObject *parts[3] = {s->author[A_LAST], initials, s->author[A_SUFFIX]};
    PyObject *kept = PyList_New(0);
    if (!kept) return -1;
    for (int i = 0; i < 3; i++)
        if (parts[i] && PyUnicode_GET_LENGTH(parts[i]) && PyList_Append(kept, parts[i]) < 0) {
            Py_DECREF(kept);
            return -1;
        }
    if (PyList_GET_SIZE(kept) == 0) { Py_DECREF(kept); return 0; }
    PyObject *space = PyUnicode_FromString(" ");
    PyObject *name = space ? PyUnicode_Join(space, kept) : NULL;
    Py_XDECREF(space);
    Py_DECREF(kept);
    return name ? append(&s->fields[F_AUTHORS], name) : -1;
}

static int finish_date(Scanner *s) {
    PyObject *parts = PyTuple_New(5);
    if (!parts) return -1;
    for (int i = 0; i < 5; i++) PyTuple_SET_ITEM(parts, i, or_none(s->date[i]));
    int slot = s->date_slot == D_ISSUE ? F_ISSUE_DATE : s->date_slot == D_ARTICLE ? F_ARTICLE_DATE : F_PUBMED_DATE;
    Py_XSETREF(s->fields[slot], parts);
    return 0;
}

static int finish_heading(Scanner *s) {
    if (!s->descriptor || PyUnicode_GET_LENGTH(s->descriptor) == 0) return 0;
    PyObject *qualifiers = s->qualifiers ? PyList_AsTuple(s->qualifiers) : PyTuple_New(0);
    if (!qualifiers) return -1;
    PyObject *key = Py_BuildValue("(OOON)", s->descriptor, s->descriptor_ui,
                                  s->heading_major ? Py_True : Py_False, qualifiers);
    return key ? append(&s->fields[F_MESH], key) : -1;
}

static int finish_record(Scanner *s, int role) {
    int rc = 0;
    if (role == R_PUBMED_ARTICLE)
        rc = s->seen_citation ? emit_citation(s) : emit(s, "no-citation", (Py_INCREF(Py_None), Py_None));
    else if (role == R_CITATION) rc = emit_citation(s);
    else if (role == R_DELETE) rc = emit(s, "delete", s->deleted ? PyList_AsTuple(s->deleted) : PyTuple_New(0));
    else if (role == R_BOOK) rc = emit(s, "book", PyBytes_FromStringAndSize(s->book.data, s->book.len));
    clear_record(s);
    return rc;
}

static void on_start(void *data, const XML_Char *name, const XML_Char **atts) {
    Scanner *s = data;
    s->unreported = 0;
    if (s->failed) return;
    s->text_run = 0;
    if (s->depth >= MAX_DEPTH) { fail(s, "depth", "elements nested too deep"); return; }
    if (!s->root && !(s->root = PyUnicode_FromString(name))) { fail(s, NULL, NULL); return; }
    int parent = s->depth ? s->roles[s->depth - 1] : R_OUTSIDE;
    int role;
    s->depth++;
    if (parent == R_TEXT || parent == R_INLINE) role = R_INLINE;
    else if (parent == R_IGNORE) role = R_IGNORE;
    else if (parent == R_BOOK) role = book_start(s, name, atts) < 0 ? -1 : R_BOOK;
    else role = child_role(s, parent, name, atts);
    if (role < 0) { fail(s, NULL, NULL); return; }
    s->roles[s->depth - 1] = (unsigned char)role;
}

static void on_end(void *data, const XML_Char *name) {
    Scanner *s = data;
    s->unreported = 0;
    if (s->failed) return;
    s->text_run = 0;
    int role = s->roles[--s->depth];
    int rc = 0;
    switch (role) {
    case R_TEXT: rc = finish_leaf(s); break;
    case R_BOOK: rc = book_end(s, name); break;
    case R_AUTHOR: rc = finish_author(s); break;
    case R_DATE: rc = finish_date(s); break;
    case R_MESH_HEADING: rc = finish_heading(s); break;
    }
    if (rc < 0) { fail(s, NULL, NULL); return; }
    /* a record ends where it started: its parent is outside any record */
    if (s->in_record && role == s->record_role && (s->depth == 0 || s->roles[s->depth - 1] == R_OUTSIDE)
        && finish_record(s, role) < 0)
        fail(s, NULL, NULL);
}

static void on_text(void *data, const XML_Char *text, int len) {
    Scanner *s = data;
    s->unreported = 0;
    if (s->failed) return;
    s->text_run += (size_t)len;
    if (s->text_run > MAX_TEXT) { fail(s, "huge", "a text over the 10 MB limit"); return; }
    if (!s->depth) return;
    int role = s->roles[s->depth - 1];
    int rc = 0;
    if (role == R_TEXT || role == R_INLINE) rc = buffer_add(&s->text, text, (size_t)len);
    else if (role == R_BOOK) rc = book_escaped(&s->book, text, (size_t)len, 0);
    if (rc < 0) fail(s, NULL, NULL);
}

/* Entity references expat leaves unexpanded (the document names an external DTD that is not read): kept
 * as their literal text, as lxml keeps them. Everything else reaching this handler (comments, the prolog)
 * is dropped. */
static void on_default(void *data, const XML_Char *text, int len) {
    Scanner *s = data;
    s->unreported = 0;
    if (s->failed || !s->depth || len < 3 || text[0] != '&' || text[len - 1] != ';') return;
    int role = s->roles[s->depth - 1];
    int rc = 0;
    if (role == R_TEXT || role == R_INLINE) rc = buffer_add(&s->text, text, (size_t)len);
    else if (role == R_BOOK) rc = book_escaped(&s->book, text, (size_t)len, 0);
    if (rc < 0) fail(s, NULL, NULL);
}

/* ---------------------------------------------------------------------------------- the Python type */

static int scanner_init(Scanner *s, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"raw_citation_type", NULL};
    PyObject *raw_type;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Scanner", keywords, &raw_type)) return -1;
    if (s->parser) { PyErr_SetString(PyExc_RuntimeError, "Scanner is already initialised"); return -1; }
    Py_INCREF(raw_type);
    s->raw_type = raw_type;
    if (!(s->records = PyList_New(0))) return -1;
    static const XML_Char separator[] = {NS_SEPARATOR, 0};
    s->parser = expat->ParserCreate_MM(NULL, NULL, separator);
    if (!s->parser) { PyErr_NoMemory(); return -1; }
    expat->SetUserData(s->parser, s);
    expat->SetElementHandler(s->parser, on_start, on_end);
    expat->SetCharacterDataHandler(s->parser, on_text);
    expat->SetDefaultHandlerExpand(s->parser, on_default);
    expat->SetUnknownEncodingHandler(s->parser, expat->DefaultUnknownEncodingHandler, NULL);
    return 0;
}

static PyObject *take_records(Scanner *s) {
    if (s->exc_type) {
        PyErr_Restore(s->exc_type, s->exc_value, s->exc_tb);
        s->exc_type = s->exc_value = s->exc_tb = NULL;
        return NULL;
    }
    PyObject *done = s->records;
    s->records = PyList_New(0);
    if (!s->records) { s->records = done; return NULL; }
    return done;
}

/* Expat holds a token (a tag with its attributes, a comment, a processing instruction) until it ends and
 * then calls a handler; character data it hands over in pieces. So MAX_TEXT bytes fed without any handler
 * call mean one token that long: refused, as libxml2 refuses attribute values and comments past it. */
static void parse_part(Scanner *s, const char *data, int len, int final) {
    if (expat->Parse(s->parser, data, len, final) == XML_STATUS_ERROR && !s->failed) {
        const char *message = expat->ErrorString(expat->GetErrorCode(s->parser));
        fail(s, "syntax", message ? message : "malformed XML");
    }
    s->unreported += (size_t)len;
    if (s->unreported > MAX_TEXT) fail(s, "huge", "a tag, attribute or comment over the 10 MB limit");
}

static PyObject *parse(Scanner *s, const char *data, Py_ssize_t len, int final) {
    if (!s->parser) { PyErr_SetString(PyExc_RuntimeError, "Scanner is not initialised"); return NULL; }
    const Py_ssize_t most = 1 << 20;  /* expat takes an int length; the token check runs per part */
    for (; len > most && !s->failed; data += most, len -= most) parse_part(s, data, (int)most, 0);
    if (!s->failed) parse_part(s, data, (int)len, final);
    return take_records(s);
}

static PyObject *scanner_feed(Scanner *s, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *records = parse(s, view.buf, view.len, 0);
    PyBuffer_Release(&view);
    return records;
}

static PyObject *scanner_close(Scanner *s, PyObject *Py_UNUSED(ignored)) {
    return parse(s, "", 0, 1);
}

static int scanner_traverse(Scanner *s, visitproc visit, void *arg) {
    Py_VISIT(s->raw_type);
    Py_VISIT(s->records);
    Py_VISIT(s->root);
    Py_VISIT(s->error);
    Py_VISIT(s->exc_type);
    Py_VISIT(s->exc_value);
    Py_VISIT(s->exc_tb);
    for (int i = 0; i < F_COUNT; i++) Py_VISIT(s->fields[i]);
    for (int i = 0; i < A_PARTS; i++) Py_VISIT(s->author[i]);
    for (int i = 0; i < 5; i++) Py_VISIT(s->date[i]);
    Py_VISIT(s->deleted);
    Py_VISIT(s->descriptor);
    Py_VISIT(s->descriptor_ui);
    Py_VISIT(s->qualifiers);
    Py_VISIT(s->attr_a);
    Py_VISIT(s->attr_b);
    return 0;
}

static int scanner_clear(Scanner *s) {
    clear_record(s);
    Py_CLEAR(s->raw_type);
    Py_CLEAR(s->records);
    Py_CLEAR(s->root);
    Py_CLEAR(s->error);
    Py_CLEAR(s->exc_type);
    Py_CLEAR(s->exc_value);
    Py_CLEAR(s->exc_tb);
    return 0;
}

static void scanner_dealloc(Scanner *s) {
    PyObject_GC_UnTrack(s);
    scanner_clear(s);
    if (s->parser) expat->ParserFree(s->parser);
    PyMem_Free(s->text.data);
    PyMem_Free(s->book.data);
    Py_TYPE(s)->tp_free((PyObject *)s);
}

static PyObject *scanner_root(Scanner *s, void *Py_UNUSED(closure)) { return or_none(s->root); }
static PyObject *scanner_error(Scanner *s, void *Py_UNUSED(closure)) { return or_none(s->error); }

static PyMethodDef scanner_methods[] = {
    {"feed", (PyCFunction)scanner_feed, METH_O, "Parse more bytes; the records they complete."},
    {"close", (PyCFunction)scanner_close, METH_NOARGS, "End of input; the records it completes."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef scanner_getset[] = {
    {"root", (getter)scanner_root, NULL, "The root element's name, once read.", NULL},
    {"error", (getter)scanner_error, NULL, "(kind, message, line, column) once parsing has failed.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "corpus._pubmed_expat.Scanner",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Streams PubMed XML into raw citation records (see the module's source).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)scanner_init,
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_traverse = (traverseproc)scanner_traverse,
    .tp_clear = (inquiry)scanner_clear,
    .tp_methods = scanner_methods,
    .tp_getset = scanner_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pubmed_expat",
    .m_doc = "PubMed XML to raw citation fields through expat.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__pubmed_expat(void) {
    expat = PyCapsule_Import(PyExpat_CAPSULE_NAME, 0);
    if (!expat) return NULL;
    if (strcmp(expat->magic, PyExpat_CAPI_MAGIC) != 0 || (size_t)expat->size < sizeof(struct PyExpat_CAPI)) {
        PyErr_SetString(PyExc_ImportError, "pyexpat's C API is not the version this module was built for");
        return NULL;
    }
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(m, "Scanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
