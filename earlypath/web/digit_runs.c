/* The CDS body's byte checks (earlypath/web/digit_runs.py): a run of 19 or more ASCII digits,
 * and (`nests_deeper`, further down) JSON nesting deeper than a limit.
 *
 * Does a CDS body hold a run of 19 or more ASCII digits?
 *
 * The question `cds.parse_json` asks before trusting orjson, which reads an integer beyond 64
 * bits as a float: the same answer as turning every digit into 0 and looking for 19 zeros, in
 * one pass that looks at about one byte in 19 of the usual body.
 *
 * Why it skips: if the byte at start + 18 is not a digit, no run of 19 starting anywhere from
 * start to start + 18 can exist (each would cover that byte), so the next start is the byte
 * after it. If it is a digit, the bytes before it are read back towards start: all digits, the
 * run is found; a non-digit at k rules out every start up to k, so the next start is k + 1.
 * Each byte is read back at most once (a later read-back stops at a non-digit before reaching
 * bytes already read), so the pass is linear in the body's length.
 *
 * Built at install time by `python -m earlypath.records.native build`, named by the hash of
 * this text; without the build, digit_runs.py answers the same question in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define LONG_RUN 19

static int is_digit(unsigned char byte) { return (unsigned char)(byte - '0') < 10; }

static int has_run(const unsigned char *text, Py_ssize_t length)
{
    Py_ssize_t start = 0;
    while (length - start >= LONG_RUN) {
        Py_ssize_t last = start + LONG_RUN - 1;
        if (!is_digit(text[last])) {
            start = last + 1;
            continue;
        }
        Py_ssize_t k = last - 1;
        while (k >= start && is_digit(text[k]))
            k--;
        if (k < start)
            return 1;
        start = k + 1;
    }
    return 0;
}

static PyObject *has_long_digit_run(PyObject *module, PyObject *raw)
{
    (void)module;
    if (!PyBytes_Check(raw)) {
        PyErr_SetString(PyExc_TypeError, "has_long_digit_run takes bytes");
        return NULL;
    }
    if (has_run((const unsigned char *)PyBytes_AS_STRING(raw), PyBytes_GET_SIZE(raw)))
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

/* Do the arrays and objects of a JSON text nest deeper than `limit`? (`limits._nesting`)
 *
 * Asked only of a body orjson has parsed, so the text is valid JSON: a bracket outside a string
 * opens or closes a container, and the deepest bracket is the deepest container, the answer the
 * walk over the parsed value (`limits._values_too_deep`) gives, without visiting its values.
 * A string runs from its quote to the next quote not escaped. Bytes of UTF-8 beyond ASCII are
 * never a quote, a backslash or a bracket.
 *
 * Strings are most of a FHIR body, so a string's end is found by memchr (many bytes a step)
 * rather than byte by byte: the next quote ends the string unless an odd number of backslashes
 * stands right before it (each pair is one escaped backslash; an odd one out escapes the
 * quote). The run of backslashes is counted back from the quote; it cannot reach past the
 * string's opening quote, which is not a backslash. In valid JSON a backslash is always
 * followed by a byte of its string, so the quote that ends the string is such a quote.
 */
static const unsigned char *string_end(const unsigned char *at, const unsigned char *end)
{
    /* at: the byte after the opening quote; returns the byte after the closing quote */
    while (at < end) {
        const unsigned char *quote = memchr(at, '"', (size_t)(end - at));
        if (quote == NULL)
            return end;
        const unsigned char *back = quote;
        while (back > at && back[-1] == '\\')
            back--;
        if (((quote - back) & 1) == 0)
            return quote + 1;
        at = quote + 1; /* an escaped quote: the string goes on */
    }
    return end;
}

static int nests_deeper_than(const unsigned char *text, Py_ssize_t length, Py_ssize_t limit)
{
    const unsigned char *at = text, *end = text + length;
    Py_ssize_t depth = 0;
    while (at < end) {
        unsigned char byte = *at++;
        if (byte == '"') {
            at = string_end(at, end);
        } else if (byte == '[' || byte == '{') {
            if (++depth > limit)
                return 1;
        } else if (byte == ']' || byte == '}') {
            depth--;
        }
    }
    return 0;
}

static PyObject *nests_deeper(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "nests_deeper takes bytes and a limit");
        return NULL;
    }
    Py_ssize_t limit = PyLong_AsSsize_t(args[1]);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    if (nests_deeper_than((const unsigned char *)PyBytes_AS_STRING(args[0]),
                          PyBytes_GET_SIZE(args[0]), limit))
        Py_RETURN_TRUE;
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"has_long_digit_run", has_long_digit_run, METH_O,
     "True if the bytes hold 19 or more ASCII digits in a row."},
    {"nests_deeper", (PyCFunction)(void (*)(void))nests_deeper, METH_FASTCALL,
     "True if the arrays and objects of valid JSON bytes nest deeper than the limit."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "earlypath_digit_runs", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit_earlypath_digit_runs(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
    /* the hash of the text this build was compiled from (given to gcc): a file renamed by
       hand is not taken for another text's build */
    if (PyModule_AddStringConstant(module, "SOURCE_HASH", EARLYPATH_SOURCE_HASH) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
