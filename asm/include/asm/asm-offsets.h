/* The kernel reaches the generated offsets through <asm/asm-offsets.h>. */
#include <generated/asm-offsets.h>
