/**
 * Loads every instruction-class module so their predecoders and handlers are
 * registered before the interpreter decodes anything.
 */
import './data-processing.js';
import './branches.js';
