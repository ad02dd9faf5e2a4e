/*
 * Bit helpers as the kernel's headers expand them in assembly: the UL()/ULL()
 * suffixes disappear (GNU as evaluates in 64 bits), so BIT(n) is (1 << (n)).
 */
#ifndef __PKVM_LAB_LINUX_BITS_H
#define __PKVM_LAB_LINUX_BITS_H

#ifdef __ASSEMBLY__
#define UL(x)		(x)
#define ULL(x)		(x)
#else
#define UL(x)		(x##UL)
#define ULL(x)		(x##ULL)
#endif

#define BIT(nr)		(UL(1) << (nr))
#define BIT_ULL(nr)	(ULL(1) << (nr))

#endif
