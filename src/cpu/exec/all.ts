/**
 * Loads every instruction-class module so their predecoders and handlers are
 * registered before the interpreter decodes anything.
 */
import './data-processing.js';
import './branches.js';
import './loads-stores.js';
import './system.js';
import './fp-simd.js';
