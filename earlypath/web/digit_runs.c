/* Does a CDS body hold a run of 19 or more ASCII digits? (earlypath/web/digit_runs.py)
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

static PyMethodDef methods[] = {
    {"has_long_digit_run", has_long_digit_run, METH_O,
     "True if the bytes hold 19 or more ASCII digits in a row."},
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
