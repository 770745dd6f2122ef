/*
 * Native hot path: venue frames parsed straight from bytes into integer books.
 *
 * Why: decoding a frame with orjson builds a dict and a str for every field, and that
 * allocation is most of its cost; the books then need a second pass in Python. Here a
 * frame is scanned once, only the fields a book needs are read, and levels are applied
 * to books held in C (prices in 1e-4 dollars, sizes in 1e-2 contracts, as in
 * arbitrage/units.py).
 *
 * Safety rule: a feed handles a frame only when it is certain the Python path would do
 * exactly the same thing; then it validates the whole frame before touching any book.
 * Anything else -- another event type, a value not exactly representable, a JSON
 * construct we do not need (escapes, exponents, non-ASCII), a frame the Python path would
 * reject or apply partially -- is declined (feed returns None) with nothing changed, and
 * the caller hands the frame to the Python path. Correctness never depends on coverage.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define PRICE_SCALE 10000
#define SIZE_SCALE 100
/* Sizes must stay below 10^15 units (10^13 contracts): larger is malformed. */
#define MAX_SIZE_UNITS 1000000000000000LL
#define MAX_DEPTH 32
/* Frame times (ms) are kept in ns in an int64: up to 2255. */
#define MAX_TIMESTAMP_MS 9000000000000LL

/* ------------------------------------------------------------------ book sides */

typedef struct {
    int32_t price;
    int64_t size;
} Level;

typedef struct {
    Level *v;
    Py_ssize_t n, cap;
} Side; /* ascending by price, sizes > 0 */

static Py_ssize_t side_find(const Side *s, int32_t price) {
    Py_ssize_t lo = 0, hi = s->n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) >> 1;
        if (s->v[mid].price < price)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int side_reserve(Side *s, Py_ssize_t need) {
    if (need <= s->cap) return 0;
    Py_ssize_t cap = s->cap ? s->cap : 16;
    while (cap < need) cap *= 2;
    Level *v = PyMem_Realloc(s->v, (size_t)cap * sizeof(Level));
    if (v == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->v = v;
    s->cap = cap;
    return 0;
}

/* Absolute size at a level (0 removes). -1 only on memory error. */
static int side_set(Side *s, int32_t price, int64_t size) {
    Py_ssize_t i = side_find(s, price);
    int found = i < s->n && s->v[i].price == price;
    if (size > 0) {
        if (found) {
            s->v[i].size = size;
            return 0;
        }
        if (side_reserve(s, s->n + 1) < 0) return -1;
        memmove(&s->v[i + 1], &s->v[i], (size_t)(s->n - i) * sizeof(Level));
        s->v[i].price = price;
        s->v[i].size = size;
        s->n++;
    } else if (found) {
        memmove(&s->v[i], &s->v[i + 1], (size_t)(s->n - i - 1) * sizeof(Level));
        s->n--;
    }
    return 0;
}

static int64_t side_get(const Side *s, int32_t price) {
    Py_ssize_t i = side_find(s, price);
    return (i < s->n && s->v[i].price == price) ? s->v[i].size : 0;
}

/* ------------------------------------------------------------------ Book */

typedef struct {
    PyObject_HEAD
    PyObject *venue;
    PyObject *market_id;
    PyObject *hash; /* str or None */
    Side bids, asks;
    int in_sync;
    int timed; /* updated_ns was ever set */
    int64_t updated_ns;
    int64_t sequence;
    /* The detector reads the top of book and the time on every update: the int objects
     * handed out are kept and reused while the value stays the same. */
    PyObject *bid_obj, *ask_obj, *ns_obj;
    int32_t bid_cached, ask_cached;
    int64_t ns_cached;
} Book;

static PyTypeObject BookType;

static int book_init(Book *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"venue", "market_id", NULL};
    PyObject *venue, *market_id;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OU", kwlist, &venue, &market_id)) return -1;
    Py_INCREF(venue);
    Py_XSETREF(self->venue, venue);
    Py_INCREF(market_id);
    Py_XSETREF(self->market_id, market_id);
    if (self->hash == NULL) {
        Py_INCREF(Py_None);
        self->hash = Py_None;
    }
    return 0;
}

static int book_traverse(Book *self, visitproc visit, void *arg) {
    Py_VISIT(self->venue);
    Py_VISIT(self->market_id);
    Py_VISIT(self->hash);
    return 0;
}

static int book_clear(Book *self) {
    Py_CLEAR(self->bid_obj);
    Py_CLEAR(self->ask_obj);
    Py_CLEAR(self->ns_obj);
    Py_CLEAR(self->venue);
    Py_CLEAR(self->market_id);
    Py_CLEAR(self->hash);
    return 0;
}

static void book_dealloc(Book *self) {
    PyObject_GC_UnTrack(self);
    book_clear(self);
    PyMem_Free(self->bids.v);
    PyMem_Free(self->asks.v);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static void book_touch(Book *b, int64_t now) {
    b->updated_ns = now;
    b->timed = 1;
}

static PyObject *opt_int(int has, long long v) {
    if (!has) Py_RETURN_NONE;
    return PyLong_FromLongLong(v);
}

/* `price` -1 is None; the cached object is reused while the value holds. */
static PyObject *cached_price(PyObject **obj, int32_t *cached, int32_t price) {
    if (*obj == NULL || *cached != price) {
        PyObject *o = opt_int(price >= 0, price);
        if (o == NULL) return NULL;
        Py_XSETREF(*obj, o);
        *cached = price;
    }
    Py_INCREF(*obj);
    return *obj;
}

static PyObject *book_get_best_bid(Book *b, void *c) {
    return cached_price(&b->bid_obj, &b->bid_cached, b->bids.n ? b->bids.v[b->bids.n - 1].price : -1);
}
static PyObject *book_get_best_ask(Book *b, void *c) {
    return cached_price(&b->ask_obj, &b->ask_cached, b->asks.n ? b->asks.v[0].price : -1);
}
static PyObject *book_get_in_sync(Book *b, void *c) { return PyBool_FromLong(b->in_sync); }
static int book_set_in_sync(Book *b, PyObject *v, void *c) {
    int t = v ? PyObject_IsTrue(v) : -1;
    if (t < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "in_sync cannot be deleted");
        return -1;
    }
    b->in_sync = t;
    return 0;
}
static PyObject *book_get_updated_ns(Book *b, void *c) {
    if (b->ns_obj == NULL || b->ns_cached != b->updated_ns) {
        PyObject *o = PyLong_FromLongLong(b->updated_ns);
        if (o == NULL) return NULL;
        Py_XSETREF(b->ns_obj, o);
        b->ns_cached = b->updated_ns;
    }
    Py_INCREF(b->ns_obj);
    return b->ns_obj;
}
static int book_set_updated_ns(Book *b, PyObject *v, void *c) {
    if (v == NULL || !PyLong_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "updated_ns must be an int");
        return -1;
    }
    long long ns = PyLong_AsLongLong(v);
    if (ns == -1 && PyErr_Occurred()) return -1;
    book_touch(b, ns);
    return 0;
}
static PyObject *book_get_timed(Book *b, void *c) { return PyBool_FromLong(b->timed); }
static PyObject *book_get_sequence(Book *b, void *c) { return PyLong_FromLongLong(b->sequence); }
static int book_set_sequence(Book *b, PyObject *v, void *c) {
    if (v == NULL || !PyLong_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "sequence must be an int");
        return -1;
    }
    long long s = PyLong_AsLongLong(v);
    if (s == -1 && PyErr_Occurred()) return -1;
    b->sequence = s;
    return 0;
}
static PyObject *book_get_hash(Book *b, void *c) {
    Py_INCREF(b->hash);
    return b->hash;
}
static int book_set_hash(Book *b, PyObject *v, void *c) {
    if (v == NULL) v = Py_None;
    Py_INCREF(v);
    Py_SETREF(b->hash, v);
    return 0;
}

static PyObject *side_dict(const Side *s) {
    PyObject *d = PyDict_New();
    if (d == NULL) return NULL;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        PyObject *k = PyLong_FromLong(s->v[i].price), *v = PyLong_FromLongLong(s->v[i].size);
        int r = (k && v) ? PyDict_SetItem(d, k, v) : -1;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (r < 0) {
            Py_DECREF(d);
            return NULL;
        }
    }
    return d;
}
static PyObject *book_get_bids(Book *b, void *c) { return side_dict(&b->bids); }
static PyObject *book_get_asks(Book *b, void *c) { return side_dict(&b->asks); }

/* Levels as a tuple of (price, size); complement maps a price p to 10000 - p. */
static PyObject *side_tuple(const Side *s, int descending, int complement) {
    PyObject *t = PyTuple_New(s->n);
    if (t == NULL) return NULL;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        const Level *lv = &s->v[descending ? s->n - 1 - i : i];
        PyObject *pair = Py_BuildValue("(iL)", complement ? PRICE_SCALE - lv->price : lv->price, (long long)lv->size);
        if (pair == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, pair);
    }
    return t;
}

static PyObject *book_bid_levels(Book *b, PyObject *unused) { return side_tuple(&b->bids, 1, 0); }
static PyObject *book_ask_levels(Book *b, PyObject *unused) { return side_tuple(&b->asks, 0, 0); }

static PyObject *book_asks_of(Book *b, PyObject *yes) {
    int t = PyObject_IsTrue(yes);
    if (t < 0) return NULL;
    PyObject *tup = t ? side_tuple(&b->asks, 0, 0) : side_tuple(&b->bids, 1, 1);
    if (tup == NULL) return NULL;
    PyObject *list = PySequence_List(tup);
    Py_DECREF(tup);
    return list;
}

static PyObject *book_best_ask_of(Book *b, PyObject *yes) {
    int t = PyObject_IsTrue(yes);
    if (t < 0) return NULL;
    if (t) return opt_int(b->asks.n > 0, b->asks.n ? b->asks.v[0].price : 0);
    return opt_int(b->bids.n > 0, b->bids.n ? PRICE_SCALE - b->bids.v[b->bids.n - 1].price : 0);
}

static int check_price(long long p) {
    if (p < 0 || p > PRICE_SCALE) {
        PyErr_Format(PyExc_ValueError, "price %lld outside [0, %d]", p, PRICE_SCALE);
        return -1;
    }
    return 0;
}

static int check_size(long long s) {
    if (s <= -MAX_SIZE_UNITS || s >= MAX_SIZE_UNITS) {
        PyErr_Format(PyExc_ValueError, "size %lld too large for the native book", s);
        return -1;
    }
    return 0;
}

static int read_level(PyObject *item, int32_t *price, int64_t *size) {
    long long p, s;
    if (!PyArg_ParseTuple(item, "LL", &p, &s)) return -1;
    if (check_price(p) < 0 || check_size(s) < 0) return -1;
    *price = (int32_t)p;
    *size = s;
    return 0;
}

/* Load a side from an iterable of (price, size); like IntBook.replace, sizes <= 0 are
 * dropped and a repeated price keeps its last size. Builds into `out` (not the book). */
static int load_side(PyObject *levels, Side *out) {
    PyObject *seq = PySequence_Fast(levels, "levels must be a sequence of (price, size)");
    if (seq == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t p;
        int64_t s;
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(item)) {
            PyObject *t = PySequence_Tuple(item);
            if (t == NULL) goto fail;
            int r = read_level(t, &p, &s);
            Py_DECREF(t);
            if (r < 0) goto fail;
        } else if (read_level(item, &p, &s) < 0) {
            goto fail;
        }
        if (s > 0 && side_set(out, p, s) < 0) goto fail;
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

static void side_swap(Side *a, Side *b) {
    Side t = *a;
    *a = *b;
    *b = t;
}

static PyObject *book_replace(Book *b, PyObject *args) {
    PyObject *bids, *asks, *now_obj = Py_None;
    long long now = 0;
    if (!PyArg_ParseTuple(args, "OO|O", &bids, &asks, &now_obj)) return NULL;
    if (now_obj != Py_None) {
        now = PyLong_AsLongLong(now_obj);
        if (now == -1 && PyErr_Occurred()) return NULL;
    }
    Side nb = {0}, na = {0};
    if (load_side(bids, &nb) < 0 || load_side(asks, &na) < 0) {
        PyMem_Free(nb.v);
        PyMem_Free(na.v);
        return NULL;
    }
    side_swap(&b->bids, &nb);
    side_swap(&b->asks, &na);
    PyMem_Free(nb.v);
    PyMem_Free(na.v);
    b->in_sync = 1;
    b->sequence++;
    if (now_obj != Py_None) book_touch(b, now);
    Py_RETURN_NONE;
}

static PyObject *book_set(Book *b, PyObject *args, Side *side) {
    long long p, s;
    if (!PyArg_ParseTuple(args, "LL", &p, &s)) return NULL;
    if (check_price(p) < 0 || check_size(s) < 0) return NULL;
    if (side_set(side, (int32_t)p, s > 0 ? s : 0) < 0) return NULL;
    b->sequence++;
    Py_RETURN_NONE;
}
static PyObject *book_set_bid(Book *b, PyObject *args) { return book_set(b, args, &b->bids); }
static PyObject *book_set_ask(Book *b, PyObject *args) { return book_set(b, args, &b->asks); }

/* Kalshi-style delta; returns 0 ok, 1 refused (negative or oversized result, nothing changed). */
static int side_add(Side *side, int32_t p, int64_t delta) {
    int64_t size = side_get(side, p) + delta;
    if (size < 0 || size >= MAX_SIZE_UNITS) return 1;
    return side_set(side, p, size) < 0 ? -1 : 0;
}

static PyObject *book_add(Book *b, PyObject *args, Side *side) {
    long long p, d;
    if (!PyArg_ParseTuple(args, "LL", &p, &d)) return NULL;
    if (check_price(p) < 0 || check_size(d) < 0) return NULL;
    int r = side_add(side, (int32_t)p, d);
    if (r < 0) return NULL;
    if (r == 0) b->sequence++;
    return PyBool_FromLong(r == 0);
}
static PyObject *book_add_bid(Book *b, PyObject *args) { return book_add(b, args, &b->bids); }
static PyObject *book_add_ask(Book *b, PyObject *args) { return book_add(b, args, &b->asks); }

static PyObject *book_mark_out_of_sync(Book *b, PyObject *unused) {
    b->in_sync = 0;
    Py_RETURN_NONE;
}

static PyMethodDef book_methods[] = {
    {"replace", (PyCFunction)book_replace, METH_VARARGS,
     "replace(bids, asks, updated_ns=None): load (price, size) unit levels; the book becomes in sync."},
    {"set_bid", (PyCFunction)book_set_bid, METH_VARARGS, "set_bid(price, size): absolute size (<= 0 removes)."},
    {"set_ask", (PyCFunction)book_set_ask, METH_VARARGS, "set_ask(price, size): absolute size (<= 0 removes)."},
    {"add_bid", (PyCFunction)book_add_bid, METH_VARARGS, "add_bid(price, delta) -> False if the result is negative."},
    {"add_ask", (PyCFunction)book_add_ask, METH_VARARGS, "add_ask(price, delta) -> False if the result is negative."},
    {"bid_levels", (PyCFunction)book_bid_levels, METH_NOARGS, "YES bids as (price, size) units, best first."},
    {"ask_levels", (PyCFunction)book_ask_levels, METH_NOARGS, "YES asks as (price, size) units, best first."},
    {"asks_of", (PyCFunction)book_asks_of, METH_O, "asks_of(yes): asks of YES or of NO, best first (a list)."},
    {"best_ask_of", (PyCFunction)book_best_ask_of, METH_O, "best_ask_of(yes): best ask of YES or NO, or None."},
    {"mark_out_of_sync", (PyCFunction)book_mark_out_of_sync, METH_NOARGS, "Readers must not trade on it."},
    {NULL},
};

static PyGetSetDef book_getset[] = {
    {"best_bid", (getter)book_get_best_bid, NULL, "best YES bid (1e-4 dollars) or None", NULL},
    {"best_ask", (getter)book_get_best_ask, NULL, "best YES ask (1e-4 dollars) or None", NULL},
    {"bids", (getter)book_get_bids, NULL, "YES bids as a new dict price -> size (units)", NULL},
    {"asks", (getter)book_get_asks, NULL, "YES asks as a new dict price -> size (units)", NULL},
    {"in_sync", (getter)book_get_in_sync, (setter)book_set_in_sync, NULL, NULL},
    {"updated_ns", (getter)book_get_updated_ns, (setter)book_set_updated_ns, NULL, NULL},
    {"timed", (getter)book_get_timed, NULL, "updated_ns was ever set", NULL},
    {"sequence", (getter)book_get_sequence, (setter)book_set_sequence, "bumped by every change", NULL},
    {"hash", (getter)book_get_hash, (setter)book_set_hash, "venue book hash (Polymarket) or None", NULL},
    {NULL},
};

static PyObject *book_get_venue(Book *b, void *c) {
    Py_INCREF(b->venue);
    return b->venue;
}
static PyObject *book_get_market_id(Book *b, void *c) {
    Py_INCREF(b->market_id);
    return b->market_id;
}
static PyGetSetDef book_ids_getset[] = {
    {"venue", (getter)book_get_venue, NULL, NULL, NULL},
    {"market_id", (getter)book_get_market_id, NULL, NULL, NULL},
    {NULL},
};

/* ------------------------------------------------------------------ key table */

typedef struct {
    char *key;
    Py_ssize_t len;
    Book *book; /* borrowed; `owner` keeps it alive */
    PyObject *tag;
    PyObject *owner; /* tuple (book, tag) holding the references */
    int is_yes;
} Entry;

typedef struct {
    Entry *slots;
    Py_ssize_t cap, used;
} Table;

/* Asset ids are ~77 digits: hash 8 bytes at a time. */
static uint64_t hash_bytes(const char *s, Py_ssize_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, (size_t)n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static Entry *table_find(const Table *t, const char *s, Py_ssize_t n) {
    if (t->cap == 0) return NULL;
    Py_ssize_t mask = t->cap - 1, i = (Py_ssize_t)(hash_bytes(s, n) & (uint64_t)mask);
    for (;;) {
        Entry *e = &t->slots[i];
        if (e->key == NULL) return NULL;
        if (e->len == n && memcmp(e->key, s, (size_t)n) == 0) return e;
        i = (i + 1) & mask;
    }
}

static Entry *table_slot(Table *t, const char *s, Py_ssize_t n) {
    if ((t->used + 1) * 2 > t->cap) {
        Py_ssize_t cap = t->cap ? t->cap * 2 : 64;
        Entry *slots = PyMem_Calloc((size_t)cap, sizeof(Entry));
        if (slots == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (Py_ssize_t j = 0; j < t->cap; j++) {
            Entry *e = &t->slots[j];
            if (e->key == NULL) continue;
            Py_ssize_t i = (Py_ssize_t)(hash_bytes(e->key, e->len) & (uint64_t)(cap - 1));
            while (slots[i].key != NULL) i = (i + 1) & (cap - 1);
            slots[i] = *e;
        }
        PyMem_Free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    Py_ssize_t mask = t->cap - 1, i = (Py_ssize_t)(hash_bytes(s, n) & (uint64_t)mask);
    for (;;) {
        Entry *e = &t->slots[i];
        if (e->key == NULL) {
            e->key = PyMem_Malloc((size_t)n + 1);
            if (e->key == NULL) {
                PyErr_NoMemory();
                return NULL;
            }
            memcpy(e->key, s, (size_t)n);
            e->len = n;
            t->used++;
            return e;
        }
        if (e->len == n && memcmp(e->key, s, (size_t)n) == 0) {
            Py_CLEAR(e->owner);
            return e;
        }
        i = (i + 1) & mask;
    }
}

static int table_add(Table *t, PyObject *key, PyObject *book, int is_yes, PyObject *tag) {
    if (!PyObject_TypeCheck(book, &BookType)) {
        PyErr_SetString(PyExc_TypeError, "book must be a native Book");
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(key, &n);
    if (s == NULL) return -1;
    Entry *e = table_slot(t, s, n);
    if (e == NULL) return -1;
    e->owner = PyTuple_Pack(2, book, tag);
    if (e->owner == NULL) return -1;
    e->book = (Book *)book;
    e->tag = tag;
    e->is_yes = is_yes;
    return 0;
}

static void table_free(Table *t) {
    for (Py_ssize_t j = 0; j < t->cap; j++) {
        PyMem_Free(t->slots[j].key);
        Py_CLEAR(t->slots[j].owner);
    }
    PyMem_Free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}

static int table_traverse(Table *t, visitproc visit, void *arg) {
    for (Py_ssize_t j = 0; j < t->cap; j++) Py_VISIT(t->slots[j].owner);
    return 0;
}

/* ------------------------------------------------------------------ strict JSON scanner */

typedef struct {
    const char *p, *end;
} Cur;

typedef struct {
    const char *s;
    Py_ssize_t n;
} Str;

#define DECLINE (-1)

static inline void ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

/* A string without escapes, control characters or non-ASCII bytes (so its first '"' closes it). */
static int scan_str(Cur *c, Str *out) {
    if (c->p >= c->end || *c->p != '"') return DECLINE;
    const char *s = c->p + 1;
    const char *q = memchr(s, '"', (size_t)(c->end - s));
    if (q == NULL) return DECLINE;
    unsigned bad = 0;
    for (const unsigned char *r = (const unsigned char *)s; r < (const unsigned char *)q; r++)
        bad |= (unsigned)(*r == '\\') | (unsigned)(*r < 0x20) | (unsigned)(*r >= 0x80);
    if (bad) return DECLINE;
    out->s = s;
    out->n = q - s;
    c->p = q + 1;
    return 0;
}

static inline int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* A JSON number: no exponent, at most 18 digits in all. `*is_int` says it had no fraction. */
static int scan_num(Cur *c, int *is_int) {
    const char *q = c->p, *end = c->end;
    int digits = 0;
    if (q < end && *q == '-') q++;
    if (q >= end) return DECLINE;
    if (*q == '0') {
        q++;
        digits++;
    } else if (*q >= '1' && *q <= '9') {
        while (q < end && is_digit(*q)) {
            q++;
            digits++;
        }
    } else {
        return DECLINE;
    }
    *is_int = 1;
    if (q < end && *q == '.') {
        q++;
        *is_int = 0;
        if (q >= end || !is_digit(*q)) return DECLINE;
        while (q < end && is_digit(*q)) {
            q++;
            digits++;
        }
    }
    if (q < end && (*q == 'e' || *q == 'E')) return DECLINE;
    if (digits > 18) return DECLINE;
    c->p = q;
    return 0;
}

static int scan_lit(Cur *c, const char *lit, Py_ssize_t n) {
    if (c->end - c->p < n || memcmp(c->p, lit, (size_t)n) != 0) return DECLINE;
    c->p += n;
    return 0;
}

/* Object iteration: returns 1 with the key read and the cursor at its value, 0 at '}'. */
static int obj_next(Cur *c, int *first, Str *key) {
    ws(c);
    if (c->p >= c->end) return DECLINE;
    if (*first) {
        *first = 0;
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
    } else {
        if (*c->p == '}') {
            c->p++;
            return 0;
        }
        if (*c->p != ',') return DECLINE;
        c->p++;
        ws(c);
    }
    if (scan_str(c, key) < 0) return DECLINE;
    ws(c);
    if (c->p >= c->end || *c->p != ':') return DECLINE;
    c->p++;
    ws(c);
    return 1;
}

/* Array iteration: returns 1 with the cursor at the next element, 0 at ']'. */
static int arr_next(Cur *c, int *first) {
    ws(c);
    if (c->p >= c->end) return DECLINE;
    if (*first) {
        *first = 0;
        if (*c->p == ']') {
            c->p++;
            return 0;
        }
    } else {
        if (*c->p == ']') {
            c->p++;
            return 0;
        }
        if (*c->p != ',') return DECLINE;
        c->p++;
        ws(c);
    }
    return 1;
}

static int open_char(Cur *c, char ch) {
    ws(c);
    if (c->p >= c->end || *c->p != ch) return DECLINE;
    c->p++;
    return 0;
}

static int skip_value(Cur *c, int depth) {
    if (depth > MAX_DEPTH || c->p >= c->end) return DECLINE;
    Str s;
    int r, first = 1, is_int;
    switch (*c->p) {
        case '"':
            return scan_str(c, &s);
        case '{':
            c->p++;
            while ((r = obj_next(c, &first, &s)) == 1)
                if (skip_value(c, depth + 1) < 0) return DECLINE;
            return r;
        case '[':
            c->p++;
            while ((r = arr_next(c, &first)) == 1)
                if (skip_value(c, depth + 1) < 0) return DECLINE;
            return r;
        case 't':
            return scan_lit(c, "true", 4);
        case 'f':
            return scan_lit(c, "false", 5);
        case 'n':
            return scan_lit(c, "null", 4);
        default:
            return scan_num(c, &is_int);
    }
}

/* The frame has nothing but whitespace left. */
static int at_end(Cur *c) {
    ws(c);
    return c->p == c->end ? 0 : DECLINE;
}

#define KEY(k, lit) ((k).n == (Py_ssize_t)sizeof(lit) - 1 && memcmp((k).s, lit, sizeof(lit) - 1) == 0)
#define STR_IS(k, lit) KEY(k, lit)

/* Value kinds read at a recorded position. */
static int is_null_at(const char *p) { return p[0] == 'n'; }

static int str_at(const char *p, const char *end, Str *out) {
    Cur c = {p, end};
    return scan_str(&c, out);
}

/* A JSON integer (no fraction, no exponent). */
static int int_at(const char *p, const char *end, int64_t *out) {
    Cur c = {p, end};
    int is_int;
    if (scan_num(&c, &is_int) < 0 || !is_int) return DECLINE;
    const char *q = p;
    int neg = 0;
    if (*q == '-') {
        neg = 1;
        q++;
    }
    int64_t v = 0;
    for (; q < c.p; q++) v = v * 10 + (*q - '0');
    *out = neg ? -v : v;
    return 0;
}

/* A decimal string -?[0-9]+(.[0-9]+)? or -?.[0-9]+ (the venue docs write ".48") scaled by
 * 10^scale; digits past `scale` must be zeros, at most 13 integer digits (after leading zeros). */
static int decimal_units(Str s, int scale, int allow_negative, int64_t *out) {
    const char *q = s.s, *end = s.s + s.n;
    int neg = 0;
    if (q < end && *q == '-') {
        if (!allow_negative) return DECLINE;
        neg = 1;
        q++;
    }
    if (q >= end || !(is_digit(*q) || (*q == '.' && q + 1 < end && is_digit(q[1])))) return DECLINE;
    int64_t whole = 0;
    int digits = 0;
    for (; q < end && is_digit(*q); q++) {
        whole = whole * 10 + (*q - '0');
        if (whole && ++digits > 13) return DECLINE;
    }
    int64_t frac = 0;
    int fd = 0;
    if (q < end) {
        if (*q != '.') return DECLINE;
        q++;
        if (q >= end) return DECLINE;
        for (; q < end; q++) {
            if (!is_digit(*q)) return DECLINE;
            if (fd < scale) {
                frac = frac * 10 + (*q - '0');
                fd++;
            } else if (*q != '0') {
                return DECLINE;
            }
        }
    }
    int64_t mult = 1;
    for (int i = 0; i < scale; i++) mult *= 10;
    for (; fd < scale; fd++) frac *= 10;
    int64_t v = whole * mult + frac;
    *out = neg ? -v : v;
    return 0;
}

static int price_str(Str s, int32_t *out) {
    int64_t v;
    if (decimal_units(s, 4, 0, &v) < 0 || v > PRICE_SCALE) return DECLINE;
    *out = (int32_t)v;
    return 0;
}

static int size_str(Str s, int allow_negative, int64_t *out) {
    int64_t v;
    if (decimal_units(s, 2, allow_negative, &v) < 0 || v >= MAX_SIZE_UNITS || v <= -MAX_SIZE_UNITS) return DECLINE;
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ shared feed helpers */

/* The frame's bytes: a bytes object, or a str that is pure ASCII (read in place). 0 if neither. */
static int frame_bytes(PyObject *obj, const char **data, Py_ssize_t *len) {
    if (PyBytes_Check(obj)) {
        *data = PyBytes_AS_STRING(obj);
        *len = PyBytes_GET_SIZE(obj);
        return 1;
    }
    if (PyUnicode_Check(obj) && PyUnicode_IS_READY(obj) && PyUnicode_IS_COMPACT_ASCII(obj)) {
        *data = (const char *)PyUnicode_DATA(obj);
        *len = PyUnicode_GET_LENGTH(obj);
        return 1;
    }
    return 0;
}

typedef struct {
    Book *book;
    PyObject *tag;
    int is_bid;
    int is_yes;
    int32_t price;
    int64_t size;
    /* Polymarket venue mode */
    Str hash;
    int has_hash;
    int has_bbo;
    int32_t best_bid, best_ask;
    int has_bid, has_ask;
} Op;

typedef struct {
    Op *v;
    Py_ssize_t n, cap;
} Ops;

static Op *ops_push(Ops *o) {
    if (o->n == o->cap) {
        Py_ssize_t cap = o->cap ? o->cap * 2 : 64;
        Op *v = PyMem_Realloc(o->v, (size_t)cap * sizeof(Op));
        if (v == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        o->v = v;
        o->cap = cap;
    }
    Op *op = &o->v[o->n++];
    memset(op, 0, sizeof(Op));
    return op;
}

/* Tags of the touched books, each once, in order of first touch. */
static PyObject *touched_tags(Ops *ops) {
    Py_ssize_t n = 0;
    PyObject *seen[8];
    PyObject *list = NULL;
    for (Py_ssize_t i = 0; i < ops->n; i++) {
        PyObject *tag = ops->v[i].tag;
        int dup = 0;
        if (list == NULL) {
            for (Py_ssize_t j = 0; j < n; j++)
                if (seen[j] == tag) dup = 1;
            if (dup) continue;
            if (n < 8) {
                seen[n++] = tag;
                continue;
            }
            list = PyList_New(0);
            if (list == NULL) return NULL;
            for (Py_ssize_t j = 0; j < n; j++)
                if (PyList_Append(list, seen[j]) < 0) goto fail;
        }
        Py_ssize_t m = PyList_GET_SIZE(list);
        for (Py_ssize_t j = 0; j < m; j++)
            if (PyList_GET_ITEM(list, j) == tag) dup = 1;
        if (!dup && PyList_Append(list, tag) < 0) goto fail;
    }
    if (list != NULL) {
        PyObject *t = PyList_AsTuple(list);
        Py_DECREF(list);
        return t;
    }
    PyObject *t = PyTuple_New(n);
    if (t == NULL) return NULL;
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_INCREF(seen[j]);
        PyTuple_SET_ITEM(t, j, seen[j]);
    }
    return t;
fail:
    Py_DECREF(list);
    return NULL;
}

static int bump(PyObject *counters, const char *name) {
    if (counters == NULL || counters == Py_None) return 0;
    PyObject *v = PyObject_GetAttrString(counters, name);
    if (v == NULL) return -1;
    PyObject *one = PyLong_FromLong(1);
    PyObject *w = one ? PyNumber_Add(v, one) : NULL;
    Py_DECREF(v);
    Py_XDECREF(one);
    if (w == NULL) return -1;
    int r = PyObject_SetAttrString(counters, name, w);
    Py_DECREF(w);
    return r;
}

/* ------------------------------------------------------------------ Polymarket */

typedef struct {
    PyObject_HEAD
    Table assets;
    Ops ops;
    Side scratch_bids, scratch_asks;
    int venue_rules;
    PyObject *counters; /* venue mode: FeedCounters (unknown_assets, crossed) */
    PyObject *desyncs;  /* venue mode: list of (tag, want_bid, want_ask, got_bid, got_ask) */
    PyObject *ticks;    /* venue mode: list of (tag, tick size text) from `book` events */
} PolyFeed;

/* Fields of one market-channel event (value positions; NULL = absent). */
typedef struct {
    const char *event_type, *asset_id, *market, *timestamp, *hash, *bids, *asks, *price_changes, *changes, *price,
        *size, *side, *tick_size, *last_trade_price, *best_bid, *best_ask;
    int changes_parsed; /* price_changes already read into the feed's ops (one pass) */
} PolyFields;

static int poly_change(PolyFeed *self, Cur *c, const char *end, const char *asset_pos, const char *hash_pos,
                       int with_bbo);

/* The entries of a current-form `price_changes` array, validated into the feed's ops. */
static int poly_changes(PolyFeed *self, Cur *c, const char *end) {
    int first = 1, r;
    if (open_char(c, '[') < 0) return DECLINE;
    while ((r = arr_next(c, &first)) == 1)
        if ((r = poly_change(self, c, end, NULL, NULL, 1)) < 0) return r;
    return r;
}

static int record(const char **slot, Cur *c) {
    if (*slot != NULL) return DECLINE; /* a repeated key: decline, orjson's last-wins is left to Python */
    *slot = c->p;
    return skip_value(c, 1);
}

/* `direct`: the top-level event, whose `price_changes` entries are read in the same pass. */
static int poly_fields(Cur *c, PolyFields *f, PolyFeed *direct) {
    memset(f, 0, sizeof(*f));
    if (open_char(c, '{') < 0) return DECLINE;
    int first = 1, r;
    Str k;
    while ((r = obj_next(c, &first, &k)) == 1) {
        const char **slot = NULL;
        switch (k.n) {
            case 4:
                if (KEY(k, "hash")) slot = &f->hash;
                else if (KEY(k, "bids")) slot = &f->bids;
                else if (KEY(k, "asks")) slot = &f->asks;
                else if (KEY(k, "size")) slot = &f->size;
                else if (KEY(k, "side")) slot = &f->side;
                break;
            case 5:
                if (KEY(k, "price")) slot = &f->price;
                break;
            case 6:
                if (KEY(k, "market")) slot = &f->market;
                break;
            case 7:
                if (KEY(k, "changes")) slot = &f->changes;
                break;
            case 8:
                if (KEY(k, "asset_id")) slot = &f->asset_id;
                else if (KEY(k, "best_bid")) slot = &f->best_bid;
                else if (KEY(k, "best_ask")) slot = &f->best_ask;
                break;
            case 9:
                if (KEY(k, "timestamp")) slot = &f->timestamp;
                else if (KEY(k, "tick_size")) slot = &f->tick_size;
                break;
            case 10:
                if (KEY(k, "event_type")) slot = &f->event_type;
                break;
            case 13:
                if (KEY(k, "price_changes")) slot = &f->price_changes;
                break;
            case 16:
                if (KEY(k, "last_trade_price")) slot = &f->last_trade_price;
                break;
        }
        if (slot == &f->price_changes && direct != NULL && *slot == NULL && c->p < c->end && *c->p == '[') {
            *slot = c->p;
            int pr = poly_changes(direct, c, c->end);
            if (pr < 0) return pr;
            f->changes_parsed = 1;
        } else if (slot != NULL) {
            if (record(slot, c) < 0) return DECLINE;
        } else if (skip_value(c, 1) < 0) {
            return DECLINE;
        }
    }
    return r;
}

/* An optional venue best price: absent, null and "" are none. */
static int opt_price_at(const char *p, const char *end, int *has, int32_t *out) {
    *has = 0;
    if (p == NULL || is_null_at(p)) return 0;
    Str s;
    if (str_at(p, end, &s) < 0) return DECLINE;
    if (s.n == 0) return 0;
    if (price_str(s, out) < 0) return DECLINE;
    *has = 1;
    return 0;
}

/* Venue mode needs `market` (a string) and `timestamp` (digits, string or integer). */
static int poly_timestamp(const PolyFields *f, const char *end, int64_t *ms) {
    Str s;
    if (f->market == NULL || str_at(f->market, end, &s) < 0) return DECLINE;
    if (f->timestamp == NULL) return DECLINE;
    if (*f->timestamp == '"') {
        if (str_at(f->timestamp, end, &s) < 0 || s.n == 0 || s.n > 13) return DECLINE;
        int64_t v = 0;
        for (Py_ssize_t i = 0; i < s.n; i++) {
            if (!is_digit(s.s[i])) return DECLINE;
            v = v * 10 + (s.s[i] - '0');
        }
        *ms = v;
        return v > MAX_TIMESTAMP_MS ? DECLINE : 0;
    }
    if (int_at(f->timestamp, end, ms) < 0 || *ms < 0 || *ms > MAX_TIMESTAMP_MS) return DECLINE;
    return 0;
}

static const char NULL_HASH[] = "null"; /* a legacy message without a hash */

/* One price change entry (current form, or a legacy one with the asset given). */
/* `asset_pos`/`hash_pos` given: a legacy `changes` entry, whose asset and hash are the message's. */
static int poly_change(PolyFeed *self, Cur *c, const char *end, const char *asset_pos, const char *hash_pos,
                       int with_bbo) {
    PolyFields f;
    if (poly_fields(c, &f, NULL) < 0) return DECLINE;
    if (asset_pos == NULL) {
        if (f.asset_id == NULL) return DECLINE;
        asset_pos = f.asset_id;
    }
    Str asset, side, price, size;
    if (str_at(asset_pos, end, &asset) < 0) return DECLINE;
    if (f.side == NULL || str_at(f.side, end, &side) < 0) return DECLINE;
    if (f.price == NULL || str_at(f.price, end, &price) < 0) return DECLINE;
    if (f.size == NULL || str_at(f.size, end, &size) < 0) return DECLINE;
    int buy;
    if (STR_IS(side, "BUY")) buy = 1;
    else if (STR_IS(side, "SELL")) buy = 0;
    else return DECLINE;
    int32_t p;
    int64_t s;
    if (price_str(price, &p) < 0 || size_str(size, 0, &s) < 0) return DECLINE;
    Op hash_bbo;
    memset(&hash_bbo, 0, sizeof(hash_bbo));
    if (self->venue_rules) {
        if (hash_pos == NULL) hash_pos = f.hash;
        if (hash_pos != NULL && !is_null_at(hash_pos)) {
            if (str_at(hash_pos, end, &hash_bbo.hash) < 0) return DECLINE;
            hash_bbo.has_hash = 1;
        }
        if (with_bbo) {
            if (opt_price_at(f.best_bid, end, &hash_bbo.has_bid, &hash_bbo.best_bid) < 0) return DECLINE;
            if (opt_price_at(f.best_ask, end, &hash_bbo.has_ask, &hash_bbo.best_ask) < 0) return DECLINE;
            /* the Python parser reads an empty best price as None */
            hash_bbo.has_bbo = hash_bbo.has_bid || hash_bbo.has_ask;
        }
    }
    Entry *e = table_find(&self->assets, asset.s, asset.n);
    if (e == NULL) {
        if (!self->venue_rules) return 0;
        Op *op = ops_push(&self->ops);
        if (op == NULL) return -2;
        op->book = NULL; /* counted as an unknown asset when applied */
        return 0;
    }
    Op *op = ops_push(&self->ops);
    if (op == NULL) return -2;
    *op = hash_bbo;
    op->book = e->book;
    op->tag = e->tag;
    op->is_yes = e->is_yes;
    op->is_bid = e->is_yes == buy;
    op->price = e->is_yes ? p : PRICE_SCALE - p;
    op->size = s;
    return 0;
}

static int poly_levels(const char *pos, const char *end, int complement, Side *out) {
    Cur c = {pos, end};
    int first = 1, r;
    out->n = 0;
    if (open_char(&c, '[') < 0) return DECLINE;
    while ((r = arr_next(&c, &first)) == 1) {
        PolyFields f;
        Str price, size;
        int32_t p;
        int64_t s;
        if (poly_fields(&c, &f, NULL) < 0) return DECLINE;
        if (f.price == NULL || str_at(f.price, end, &price) < 0) return DECLINE;
        if (f.size == NULL || str_at(f.size, end, &size) < 0) return DECLINE;
        if (price_str(price, &p) < 0 || size_str(size, 0, &s) < 0) return DECLINE;
        if (s > 0 && side_set(out, complement ? PRICE_SCALE - p : p, s) < 0) return -2;
    }
    return r;
}

/* 0 handled, DECLINE, -2 Python error. `result` gets the touched tags. */
static int poly_event(PolyFeed *self, const char *pos, const char *end, int64_t now, int use_frame_time,
                      int check_tail, PyObject **result) {
    Cur c = {pos, end};
    PolyFields f;
    int r;
    self->ops.n = 0;
    if ((r = poly_fields(&c, &f, self)) < 0) return r;
    if (f.event_type == NULL) return DECLINE;
    if (check_tail && at_end(&c) < 0) return DECLINE;
    Str kind;
    if (str_at(f.event_type, end, &kind) < 0) return DECLINE;
    int64_t ms = 0;
    if (self->venue_rules || use_frame_time) {
        if (poly_timestamp(&f, end, &ms) < 0) return DECLINE;
    }
    int64_t at = use_frame_time ? ms * 1000000 : now;
    if (STR_IS(kind, "price_change")) {
        if (f.changes_parsed) {
            /* entries already in ops */
        } else if (f.price_changes != NULL && !is_null_at(f.price_changes)) {
            return DECLINE; /* not an array: the Python path reports it */
        } else if (f.changes != NULL && !is_null_at(f.changes)) {
            if (f.asset_id == NULL) return DECLINE;
            Cur a = {f.changes, end};
            int first = 1;
            if (open_char(&a, '[') < 0) return DECLINE;
            while ((r = arr_next(&a, &first)) == 1)
                if ((r = poly_change(self, &a, end, f.asset_id, f.hash != NULL ? f.hash : NULL_HASH, 0)) < 0) return r;
            if (r < 0) return r;
        } else {
            Cur a = {pos, end};
            if ((r = poly_change(self, &a, end, NULL, NULL, 0)) < 0) return r;
        }
        /* Everything validated: apply. */
        Ops *ops = &self->ops;
        Py_ssize_t kept = 0;
        for (Py_ssize_t i = 0; i < ops->n; i++) {
            Op *op = &ops->v[i];
            if (op->book == NULL) {
                if (bump(self->counters, "unknown_assets") < 0) return -2;
                continue;
            }
            Book *b = op->book;
            if (self->venue_rules && !b->in_sync) continue;
            if (side_set(op->is_bid ? &b->bids : &b->asks, op->price, op->size) < 0) return -2;
            b->sequence++;
            book_touch(b, at);
            if (self->venue_rules && op->is_yes && op->has_hash) {
                PyObject *h = PyUnicode_FromStringAndSize(op->hash.s, op->hash.n);
                if (h == NULL) return -2;
                Py_SETREF(b->hash, h);
            }
            ops->v[kept++] = *op;
        }
        ops->n = kept;
        if (self->venue_rules) {
            /* The venue's BBO, as sent with each book's last entry carrying one, against ours. */
            for (Py_ssize_t i = 0; i < kept; i++) {
                Op *op = &ops->v[i];
                if (!ops->v[i].has_bbo) continue;
                int earlier = 0;
                for (Py_ssize_t j = 0; j < i; j++)
                    if (ops->v[j].book == ops->v[i].book && ops->v[j].has_bbo) earlier = 1;
                if (earlier) continue; /* a book is checked once, where it first sent a BBO, with its last one */
                for (Py_ssize_t j = i + 1; j < kept; j++)
                    if (ops->v[j].book == ops->v[i].book && ops->v[j].has_bbo) op = &ops->v[j];
                Book *b = op->book;
                if (!b->in_sync) continue;
                int want_bid_has, want_ask_has;
                int32_t want_bid, want_ask;
                if (op->is_yes) {
                    want_bid_has = op->has_bid && op->best_bid != 0;
                    want_bid = op->best_bid;
                    want_ask_has = op->has_ask && op->best_ask != PRICE_SCALE;
                    want_ask = op->best_ask;
                } else {
                    want_bid_has = op->has_ask && op->best_ask != PRICE_SCALE;
                    want_bid = PRICE_SCALE - op->best_ask;
                    want_ask_has = op->has_bid && op->best_bid != 0;
                    want_ask = PRICE_SCALE - op->best_bid;
                }
                int got_bid_has = b->bids.n > 0, got_ask_has = b->asks.n > 0;
                int32_t got_bid = got_bid_has ? b->bids.v[b->bids.n - 1].price : 0;
                int32_t got_ask = got_ask_has ? b->asks.v[0].price : 0;
                if (got_bid_has && got_ask_has && got_bid >= got_ask) {
                    if (bump(self->counters, "crossed") < 0) return -2;
                    continue;
                }
                if (got_bid_has != want_bid_has || (got_bid_has && got_bid != want_bid) ||
                    got_ask_has != want_ask_has || (got_ask_has && got_ask != want_ask)) {
                    PyObject *row = Py_BuildValue("(ONNNN)", op->tag, opt_int(want_bid_has, want_bid),
                                                  opt_int(want_ask_has, want_ask), opt_int(got_bid_has, got_bid),
                                                  opt_int(got_ask_has, got_ask));
                    if (row == NULL) return -2;
                    int ar = PyList_Append(self->desyncs, row);
                    Py_DECREF(row);
                    if (ar < 0) return -2;
                }
            }
        }
        *result = touched_tags(ops);
        return *result == NULL ? -2 : 0;
    }
    if (STR_IS(kind, "book")) {
        Str asset;
        if (f.asset_id == NULL || str_at(f.asset_id, end, &asset) < 0) return DECLINE;
        if (f.bids == NULL || f.asks == NULL) return DECLINE;
        Str tick = {NULL, 0};
        if (self->venue_rules) {
            Str h;
            int32_t ltp;
            int has;
            if (f.tick_size != NULL && !is_null_at(f.tick_size)) {
                /* a plain decimal string, so the Python side's Decimal(text) cannot fail */
                int64_t unused;
                if (str_at(f.tick_size, end, &tick) < 0) return DECLINE;
                if (tick.n > 0 && (tick.n > 18 || decimal_units(tick, 0, 0, &unused) < 0)) {
                    Str whole = tick;
                    const char *dot = memchr(tick.s, '.', (size_t)tick.n);
                    if (tick.n > 18 || dot == NULL) return DECLINE;
                    whole.n = dot - tick.s;
                    for (const char *q = dot + 1; q < tick.s + tick.n; q++)
                        if (!is_digit(*q)) return DECLINE;
                    if (dot + 1 == tick.s + tick.n || decimal_units(whole, 0, 0, &unused) < 0) return DECLINE;
                }
            }
            if (f.hash != NULL && !is_null_at(f.hash) && str_at(f.hash, end, &h) < 0) return DECLINE;
            if (opt_price_at(f.last_trade_price, end, &has, &ltp) < 0) return DECLINE;
        }
        Entry *e = table_find(&self->assets, asset.s, asset.n);
        int complement = e != NULL && !e->is_yes;
        /* a NO token's bids are YES asks at 1 - p, and its asks YES bids */
        Side *yes_bids = &self->scratch_bids, *yes_asks = &self->scratch_asks;
        if ((r = poly_levels(f.bids, end, complement, complement ? yes_asks : yes_bids)) < 0) return r;
        if ((r = poly_levels(f.asks, end, complement, complement ? yes_bids : yes_asks)) < 0) return r;
        if (e == NULL) {
            if (self->venue_rules && bump(self->counters, "unknown_assets") < 0) return -2;
            *result = PyTuple_New(0);
            return *result == NULL ? -2 : 0;
        }
        Book *b = e->book;
        side_swap(&b->bids, yes_bids);
        side_swap(&b->asks, yes_asks);
        b->in_sync = 1;
        b->sequence++;
        book_touch(b, at);
        if (self->venue_rules && e->is_yes) {
            PyObject *h = Py_None;
            Str hs = {NULL, 0};
            if (f.hash != NULL && !is_null_at(f.hash) && str_at(f.hash, end, &hs) == 0) {
                h = PyUnicode_FromStringAndSize(hs.s, hs.n);
                if (h == NULL) return -2;
            } else {
                Py_INCREF(h);
            }
            Py_SETREF(b->hash, h);
        }
        if (tick.n > 0) {
            PyObject *row = Py_BuildValue("(Os#)", e->tag, tick.s, tick.n);
            if (row == NULL) return -2;
            int ar = PyList_Append(self->ticks, row);
            Py_DECREF(row);
            if (ar < 0) return -2;
        }
        *result = PyTuple_Pack(1, e->tag);
        return *result == NULL ? -2 : 0;
    }
    return DECLINE;
}

static PyObject *poly_feed(PolyFeed *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "feed(data, now_ns) takes 2 arguments");
        return NULL;
    }
    const char *data;
    Py_ssize_t len;
    if (!frame_bytes(args[0], &data, &len)) Py_RETURN_NONE; /* non-ASCII text: the Python path */
    int64_t now = 0;
    int use_frame_time = args[1] == Py_None;
    if (!use_frame_time) {
        now = PyLong_AsLongLong(args[1]);
        if (now == -1 && PyErr_Occurred()) return NULL;
    }
    const char *end = data + len;
    Cur c = {data, end};
    /* Validate the whole frame's JSON first: the Python path decodes it all. */
    ws(&c);
    const char *event = c.p;
    int check_tail = 1;
    if (c.p < end && *c.p == '[') {
        /* one event in an array; several are left to Python, which checks between them */
        Cur a = {c.p + 1, end};
        int first = 1;
        if (arr_next(&a, &first) != 1) Py_RETURN_NONE;
        event = a.p;
        if (skip_value(&a, 1) < 0 || arr_next(&a, &first) != 0 || at_end(&a) < 0) Py_RETURN_NONE;
        check_tail = 0;
    }
    PyObject *result = NULL;
    int r = poly_event(self, event, end, now, use_frame_time, check_tail, &result);
    if (r == -2) return NULL;
    if (r < 0) Py_RETURN_NONE;
    return result;
}

static PyObject *poly_add(PolyFeed *self, PyObject *args) {
    PyObject *asset, *book, *tag;
    int is_yes;
    if (!PyArg_ParseTuple(args, "UOpO", &asset, &book, &is_yes, &tag)) return NULL;
    if (table_add(&self->assets, asset, book, is_yes, tag) < 0) return NULL;
    Py_RETURN_NONE;
}

static int poly_init(PolyFeed *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"venue_rules", "counters", NULL};
    int venue_rules = 0;
    PyObject *counters = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|pO", kwlist, &venue_rules, &counters)) return -1;
    self->venue_rules = venue_rules;
    Py_INCREF(counters);
    Py_XSETREF(self->counters, counters);
    PyObject *list = PyList_New(0);
    if (list == NULL) return -1;
    Py_XSETREF(self->desyncs, list);
    list = PyList_New(0);
    if (list == NULL) return -1;
    Py_XSETREF(self->ticks, list);
    return 0;
}

static int poly_traverse(PolyFeed *self, visitproc visit, void *arg) {
    Py_VISIT(self->counters);
    Py_VISIT(self->desyncs);
    Py_VISIT(self->ticks);
    return table_traverse(&self->assets, visit, arg);
}

static int poly_clear(PolyFeed *self) {
    Py_CLEAR(self->counters);
    Py_CLEAR(self->desyncs);
    Py_CLEAR(self->ticks);
    table_free(&self->assets);
    return 0;
}

static void poly_dealloc(PolyFeed *self) {
    PyObject_GC_UnTrack(self);
    poly_clear(self);
    PyMem_Free(self->ops.v);
    PyMem_Free(self->scratch_bids.v);
    PyMem_Free(self->scratch_asks.v);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *poly_get_desyncs(PolyFeed *self, void *c) {
    Py_INCREF(self->desyncs);
    return self->desyncs;
}

static PyObject *poly_get_ticks(PolyFeed *self, void *c) {
    Py_INCREF(self->ticks);
    return self->ticks;
}

static PyMethodDef poly_methods[] = {
    {"add", (PyCFunction)poly_add, METH_VARARGS, "add(asset_id, book, is_yes, tag): route a token to a book."},
    {"feed", (PyCFunction)(void (*)(void))poly_feed, METH_FASTCALL,
     "feed(data, now_ns) -> tuple of touched tags, or None if declined (nothing changed). now_ns None: frame time."},
    {NULL},
};

static PyGetSetDef poly_getset[] = {
    {"desyncs", (getter)poly_get_desyncs, NULL, "venue mode: BBO mismatches found (caller empties it)", NULL},
    {"ticks", (getter)poly_get_ticks, NULL, "venue mode: (tag, tick size) of applied books (caller empties it)", NULL},
    {NULL},
};

/* ------------------------------------------------------------------ Kalshi */

typedef struct {
    PyObject_HEAD
    Table tickers;
    Side scratch_yes, scratch_no;
    PyObject *seqs; /* FastFeed rules: dict sid -> last seq, shared with the Python path */
    PyObject *subs; /* KalshiBooks rules: dict sid -> _Subscription (last_seq), shared */
    long long gaps;
} KalshiFeed;

typedef struct {
    const char *type, *sid, *seq, *msg;
} KalshiTop;

typedef struct {
    const char *market_ticker, *price, *price_dollars, *delta, *delta_fp, *side, *yes, *no, *yes_dollars, *no_dollars,
        *yes_dollars_fp, *no_dollars_fp;
} KalshiBody;

/* The `msg` object, read (and validated) in place; the cursor ends after it. */
static int kalshi_body(Cur *cur, KalshiBody *b) {
    memset(b, 0, sizeof(*b));
    Cur c = *cur;
    if (open_char(&c, '{') < 0) return DECLINE;
    int first = 1, r;
    Str k;
    while ((r = obj_next(&c, &first, &k)) == 1) {
        const char **slot = NULL;
        if (KEY(k, "market_ticker")) slot = &b->market_ticker;
        else if (KEY(k, "price")) slot = &b->price;
        else if (KEY(k, "price_dollars")) slot = &b->price_dollars;
        else if (KEY(k, "delta")) slot = &b->delta;
        else if (KEY(k, "delta_fp")) slot = &b->delta_fp;
        else if (KEY(k, "side")) slot = &b->side;
        else if (KEY(k, "yes")) slot = &b->yes;
        else if (KEY(k, "no")) slot = &b->no;
        else if (KEY(k, "yes_dollars")) slot = &b->yes_dollars;
        else if (KEY(k, "no_dollars")) slot = &b->no_dollars;
        else if (KEY(k, "yes_dollars_fp")) slot = &b->yes_dollars_fp;
        else if (KEY(k, "no_dollars_fp")) slot = &b->no_dollars_fp;
        if (slot != NULL) {
            if (record(slot, &c) < 0) return DECLINE;
        } else if (skip_value(&c, 1) < 0) {
            return DECLINE;
        }
    }
    *cur = c;
    return r;
}

static int cents_at(const char *p, const char *end, int32_t *out) {
    int64_t v;
    if (int_at(p, end, &v) < 0 || v < 0 || v > 100) return DECLINE;
    *out = (int32_t)(v * (PRICE_SCALE / 100));
    return 0;
}

/* One side of a snapshot: dollar rows [[price, size], ...] or cent rows [[cents, count], ...]. */
static int kalshi_levels(const KalshiBody *b, int yes, const char *end, int complement, Side *out) {
    const char *fp = yes ? b->yes_dollars_fp : b->no_dollars_fp;
    const char *dl = yes ? b->yes_dollars : b->no_dollars;
    const char *ct = yes ? b->yes : b->no;
    const char *rows = NULL;
    int dollars = 1;
    out->n = 0;
    if (fp != NULL && !is_null_at(fp)) rows = fp;
    else if (dl != NULL && !is_null_at(dl)) rows = dl;
    else if (ct != NULL && !is_null_at(ct)) {
        rows = ct;
        dollars = 0;
    }
    if (rows == NULL) return 0;
    Cur c = {rows, end};
    int first = 1, r;
    if (open_char(&c, '[') < 0) return DECLINE;
    while ((r = arr_next(&c, &first)) == 1) {
        int inner = 1;
        int32_t p;
        int64_t s;
        const char *pp, *sp;
        if (open_char(&c, '[') < 0 || arr_next(&c, &inner) != 1) return DECLINE;
        pp = c.p;
        if (skip_value(&c, 2) < 0 || arr_next(&c, &inner) != 1) return DECLINE;
        sp = c.p;
        if (skip_value(&c, 2) < 0 || arr_next(&c, &inner) != 0) return DECLINE;
        if (dollars) {
            Str ps, ss;
            if (str_at(pp, end, &ps) < 0 || str_at(sp, end, &ss) < 0) return DECLINE;
            if (price_str(ps, &p) < 0 || size_str(ss, 0, &s) < 0) return DECLINE;
        } else {
            if (cents_at(pp, end, &p) < 0 || int_at(sp, end, &s) < 0) return DECLINE;
            if (s < 0 || s >= MAX_SIZE_UNITS / SIZE_SCALE) return DECLINE;
            s *= SIZE_SCALE;
        }
        if (s > 0 && side_set(out, complement ? PRICE_SCALE - p : p, s) < 0) return -2;
    }
    return r;
}

/* Sequence check against the shared dict, as FastFeed._sequence_gap: 1 gap, 0 none, -2 error.
 * With `commit` 0 nothing is written. */
static int kalshi_gap(KalshiFeed *self, int has_seq, int64_t sid, int64_t seq, int commit) {
    if (!has_seq) return 0;
    PyObject *key = PyLong_FromLongLong(sid);
    if (key == NULL) return -2;
    PyObject *last = PyDict_GetItemWithError(self->seqs, key);
    int gap = 0;
    if (last == NULL && PyErr_Occurred()) goto fail;
    if (last != NULL) {
        if (!PyLong_Check(last)) goto fail_type;
        int overflow;
        long long l = PyLong_AsLongLongAndOverflow(last, &overflow);
        if (overflow || (l == -1 && PyErr_Occurred())) goto fail_type;
        gap = !(l < INT64_MAX && seq == l + 1);
    }
    if (commit) {
        PyObject *v = PyLong_FromLongLong(seq);
        if (v == NULL || PyDict_SetItem(self->seqs, key, v) < 0) {
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(v);
    }
    Py_DECREF(key);
    return gap;
fail_type:
    PyErr_SetString(PyExc_TypeError, "sequence table holds a non-int");
fail:
    Py_DECREF(key);
    return -2;
}

static void kalshi_all_out_of_sync(KalshiFeed *self) {
    for (Py_ssize_t j = 0; j < self->tickers.cap; j++)
        if (self->tickers.slots[j].key != NULL) self->tickers.slots[j].book->in_sync = 0;
}

/* A delta's price (1e-4), signed size change (1e-2) and side, as both Python parsers read them. */
static int kalshi_delta_fields(const KalshiBody *b, const char *end, int32_t *p, int64_t *d, int *yes) {
    Str s;
    if (b->price_dollars != NULL && !is_null_at(b->price_dollars)) {
        if (str_at(b->price_dollars, end, &s) < 0 || price_str(s, p) < 0) return DECLINE;
    } else if (b->price == NULL || cents_at(b->price, end, p) < 0) {
        return DECLINE;
    }
    if (b->delta_fp != NULL && !is_null_at(b->delta_fp)) {
        if (str_at(b->delta_fp, end, &s) < 0 || size_str(s, 1, d) < 0) return DECLINE;
    } else {
        if (b->delta == NULL || int_at(b->delta, end, d) < 0) return DECLINE;
        if (*d <= -MAX_SIZE_UNITS / SIZE_SCALE || *d >= MAX_SIZE_UNITS / SIZE_SCALE) return DECLINE;
        *d *= SIZE_SCALE;
    }
    if (b->side == NULL || str_at(b->side, end, &s) < 0) return DECLINE;
    if (STR_IS(s, "yes")) *yes = 1;
    else if (STR_IS(s, "no")) *yes = 0;
    else return DECLINE;
    return 0;
}

/* KalshiBooks rules, only the plain case: a delta right after the previous seq of a known
 * subscription, on a book in sync, leaving no negative size. Everything else is declined. */
static PyObject *kalshi_venue_delta(KalshiFeed *self, int is_delta, int has_seq, int64_t sid, int64_t seq,
                                    const KalshiBody *b, Str ticker, Entry *e, const char *end) {
    int32_t p;
    int64_t d;
    int yes;
    if (!is_delta || !has_seq || ticker.n == 0 || e == NULL || !e->book->in_sync) Py_RETURN_NONE;
    if (kalshi_delta_fields(b, end, &p, &d, &yes) < 0) Py_RETURN_NONE;
    Side *side = yes ? &e->book->bids : &e->book->asks;
    int32_t at = yes ? p : PRICE_SCALE - p;
    int64_t size = side_get(side, at) + d;
    if (size < 0 || size >= MAX_SIZE_UNITS || seq == INT64_MIN) Py_RETURN_NONE;
    PyObject *key = PyLong_FromLongLong(sid);
    if (key == NULL) return NULL;
    PyObject *sub = PyDict_GetItemWithError(self->subs, key);
    Py_DECREF(key);
    if (sub == NULL) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    Py_INCREF(sub); /* borrowed from the dict: held across the attribute calls */
    PyObject *last = PyObject_GetAttrString(sub, "last_seq");
    if (last == NULL) {
        Py_DECREF(sub);
        return NULL;
    }
    int overflow = 0;
    long long l = PyLong_Check(last) ? PyLong_AsLongLongAndOverflow(last, &overflow) : 0;
    int contiguous = PyLong_Check(last) && !overflow && l == seq - 1;
    Py_DECREF(last);
    if (PyErr_Occurred() || !contiguous) {
        Py_DECREF(sub);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *now_seq = PyLong_FromLongLong(seq);
    int r = now_seq == NULL ? -1 : PyObject_SetAttrString(sub, "last_seq", now_seq);
    Py_XDECREF(now_seq);
    Py_DECREF(sub);
    if (r < 0) return NULL;
    if (side_add(side, at, d) != 0) return NULL;
    e->book->sequence++;
    return PyTuple_Pack(1, e->tag);
}

static PyObject *kalshi_feed(KalshiFeed *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "feed(data, now_ns) takes 2 arguments");
        return NULL;
    }
    const char *data;
    Py_ssize_t len;
    if (!frame_bytes(args[0], &data, &len)) Py_RETURN_NONE;
    const char *end = data + len;
    long long now = 0;
    int touch = args[1] != Py_None;
    if (touch) {
        now = PyLong_AsLongLong(args[1]);
        if (now == -1 && PyErr_Occurred()) return NULL;
    }
    KalshiTop t = {0};
    KalshiBody b;
    Cur c = {data, end};
    if (open_char(&c, '{') < 0) Py_RETURN_NONE;
    int first = 1, r;
    Str k;
    while ((r = obj_next(&c, &first, &k)) == 1) {
        const char **slot = NULL;
        if (KEY(k, "type")) slot = &t.type;
        else if (KEY(k, "sid")) slot = &t.sid;
        else if (KEY(k, "seq")) slot = &t.seq;
        else if (KEY(k, "msg")) {
            if (t.msg != NULL) Py_RETURN_NONE;
            t.msg = c.p;
            if (kalshi_body(&c, &b) < 0) Py_RETURN_NONE;
            continue;
        }
        if (slot != NULL) {
            if (record(slot, &c) < 0) Py_RETURN_NONE;
        } else if (skip_value(&c, 1) < 0) {
            Py_RETURN_NONE;
        }
    }
    if (r < 0 || at_end(&c) < 0 || t.type == NULL || t.msg == NULL) Py_RETURN_NONE;
    Str kind, ticker;
    if (str_at(t.type, end, &kind) < 0) Py_RETURN_NONE;
    int is_delta = STR_IS(kind, "orderbook_delta");
    if (!is_delta && !STR_IS(kind, "orderbook_snapshot")) Py_RETURN_NONE;
    /* sid absent/null: no sequence check; otherwise both must be integers */
    int64_t sid = 0, seq = 0;
    int has_seq = 0;
    if (t.sid != NULL && !is_null_at(t.sid)) {
        if (int_at(t.sid, end, &sid) < 0) Py_RETURN_NONE;
        if (t.seq != NULL && !is_null_at(t.seq)) {
            if (int_at(t.seq, end, &seq) < 0) Py_RETURN_NONE;
            has_seq = 1;
        }
    } else if (t.seq != NULL && !is_null_at(t.seq)) {
        int64_t unused;
        if (int_at(t.seq, end, &unused) < 0) Py_RETURN_NONE;
    }
    if (b.market_ticker == NULL || str_at(b.market_ticker, end, &ticker) < 0) Py_RETURN_NONE;
    Entry *e = table_find(&self->tickers, ticker.s, ticker.n);
    if (self->subs != NULL) return kalshi_venue_delta(self, is_delta, has_seq, sid, seq, &b, ticker, e, end);
    if (is_delta) {
        int32_t p;
        int64_t d;
        int yes;
        if (kalshi_delta_fields(&b, end, &p, &d, &yes) < 0) Py_RETURN_NONE;
        int gap = kalshi_gap(self, has_seq, sid, seq, 0);
        if (gap == -2) return NULL;
        Side *side = NULL;
        int32_t at = yes ? p : PRICE_SCALE - p;
        if (!gap && e != NULL) {
            side = yes ? &e->book->bids : &e->book->asks;
            int64_t size = side_get(side, at) + d;
            if (size < 0 || size >= MAX_SIZE_UNITS) Py_RETURN_NONE; /* the Python path marks it and counts it */
        }
        if (kalshi_gap(self, has_seq, sid, seq, 1) == -2) return NULL;
        if (gap) {
            kalshi_all_out_of_sync(self);
            self->gaps++;
            return PyTuple_New(0);
        }
        if (e == NULL) return PyTuple_New(0);
        if (side_add(side, at, d) != 0) return NULL;
        e->book->sequence++;
        if (touch) book_touch(e->book, now);
        return PyTuple_Pack(1, e->tag);
    }
    /* snapshot: levels validated before anything is written */
    if (kalshi_levels(&b, 1, end, 0, &self->scratch_yes) < 0) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    if (kalshi_levels(&b, 0, end, 1, &self->scratch_no) < 0) {
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    int gap = kalshi_gap(self, has_seq, sid, seq, 1);
    if (gap == -2) return NULL;
    if (gap) {
        kalshi_all_out_of_sync(self);
        self->gaps++;
    }
    if (e == NULL) return PyTuple_New(0);
    Book *book = e->book;
    side_swap(&book->bids, &self->scratch_yes);
    side_swap(&book->asks, &self->scratch_no);
    book->in_sync = 1;
    book->sequence++;
    if (touch) book_touch(book, now);
    return PyTuple_Pack(1, e->tag);
}

static PyObject *kalshi_add(KalshiFeed *self, PyObject *args) {
    PyObject *ticker, *book, *tag;
    if (!PyArg_ParseTuple(args, "UOO", &ticker, &book, &tag)) return NULL;
    if (table_add(&self->tickers, ticker, book, 1, tag) < 0) return NULL;
    Py_RETURN_NONE;
}

static int kalshi_init(KalshiFeed *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"seqs", "subs", NULL};
    PyObject *seqs = NULL, *subs = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O!O!", kwlist, &PyDict_Type, &seqs, &PyDict_Type, &subs))
        return -1;
    if ((seqs == NULL) == (subs == NULL)) {
        PyErr_SetString(PyExc_TypeError, "give seqs (FastFeed rules) or subs (KalshiBooks rules)");
        return -1;
    }
    Py_XINCREF(seqs);
    Py_XSETREF(self->seqs, seqs);
    Py_XINCREF(subs);
    Py_XSETREF(self->subs, subs);
    return 0;
}

static int kalshi_traverse(KalshiFeed *self, visitproc visit, void *arg) {
    Py_VISIT(self->seqs);
    Py_VISIT(self->subs);
    return table_traverse(&self->tickers, visit, arg);
}

static int kalshi_clear(KalshiFeed *self) {
    Py_CLEAR(self->seqs);
    Py_CLEAR(self->subs);
    table_free(&self->tickers);
    return 0;
}

static void kalshi_dealloc(KalshiFeed *self) {
    PyObject_GC_UnTrack(self);
    kalshi_clear(self);
    PyMem_Free(self->scratch_yes.v);
    PyMem_Free(self->scratch_no.v);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *kalshi_get_gaps(KalshiFeed *self, void *c) { return PyLong_FromLongLong(self->gaps); }

static PyGetSetDef kalshi_getset[] = {
    {"gaps", (getter)kalshi_get_gaps, NULL, "sequence gaps seen (every book was marked out of sync)", NULL},
    {NULL},
};

static PyMethodDef kalshi_methods[] = {
    {"add", (PyCFunction)kalshi_add, METH_VARARGS, "add(ticker, book, tag): route a market to a book."},
    {"feed", (PyCFunction)(void (*)(void))kalshi_feed, METH_FASTCALL,
     "feed(data, now_ns) -> tuple of touched tags, or None if declined (nothing changed)."},
    {NULL},
};

/* ------------------------------------------------------------------ module */

static PyTypeObject BookType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "venues.native._books.Book",
    .tp_basicsize = sizeof(Book),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Integer binary book (YES bids/asks in 1e-4 dollars x 1e-2 contracts); IntBook's interface.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)book_init,
    .tp_dealloc = (destructor)book_dealloc,
    .tp_traverse = (traverseproc)book_traverse,
    .tp_clear = (inquiry)book_clear,
    .tp_methods = book_methods,
};

static PyTypeObject PolyFeedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "venues.native._books.PolyFeed",
    .tp_basicsize = sizeof(PolyFeed),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Polymarket market-channel frames -> native books.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)poly_init,
    .tp_dealloc = (destructor)poly_dealloc,
    .tp_traverse = (traverseproc)poly_traverse,
    .tp_clear = (inquiry)poly_clear,
    .tp_methods = poly_methods,
    .tp_getset = poly_getset,
};

static PyTypeObject KalshiFeedType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "venues.native._books.KalshiFeed",
    .tp_basicsize = sizeof(KalshiFeed),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Kalshi orderbook frames -> native books (FastFeed rules).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)kalshi_init,
    .tp_dealloc = (destructor)kalshi_dealloc,
    .tp_traverse = (traverseproc)kalshi_traverse,
    .tp_clear = (inquiry)kalshi_clear,
    .tp_methods = kalshi_methods,
    .tp_getset = kalshi_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_books", "Native venue frame parsing into integer books.", -1, NULL,
};

PyMODINIT_FUNC PyInit__books(void) {
    /* getsets: ids first, then the rest (one table) */
    static PyGetSetDef all[sizeof(book_getset) / sizeof(book_getset[0]) + 2];
    size_t n = 0;
    for (PyGetSetDef *g = book_ids_getset; g->name; g++) all[n++] = *g;
    for (PyGetSetDef *g = book_getset; g->name; g++) all[n++] = *g;
    BookType.tp_getset = all;
    if (PyType_Ready(&BookType) < 0 || PyType_Ready(&PolyFeedType) < 0 || PyType_Ready(&KalshiFeedType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Book", (PyObject *)&BookType) < 0 ||
        PyModule_AddObjectRef(m, "PolyFeed", (PyObject *)&PolyFeedType) < 0 ||
        PyModule_AddObjectRef(m, "KalshiFeed", (PyObject *)&KalshiFeedType) < 0 ||
        PyModule_AddIntConstant(m, "PRICE_SCALE", PRICE_SCALE) < 0 ||
        PyModule_AddIntConstant(m, "SIZE_SCALE", SIZE_SCALE) < 0 ||
        PyModule_AddObject(m, "MAX_SIZE_UNITS", PyLong_FromLongLong(MAX_SIZE_UNITS)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
