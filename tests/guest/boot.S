/* Ferry test guest: multiboot v1 entry, flat GDT, interrupt stubs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QEMU's multiboot loader (-kernel) jumps to _start in 32-bit protected
 * mode with EAX = 0x2BADB002 and EBX = the multiboot info. We load our own
 * flat GDT (the loader's one may live anywhere), set up a stack and call
 * kmain (magic, mbi). */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, give memory info */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .text
        .globl _start
        .type _start, @function
_start:
        cli
        cld
        lgdt gdt_desc
        ljmp $0x08, $1f
1:      movw $0x10, %cx
        movw %cx, %ds
        movw %cx, %es
        movw %cx, %fs
        movw %cx, %gs
        movw %cx, %ss
        movl $stack_top, %esp
        xorl %ebp, %ebp
        pushl %ebx              /* mbi */
        pushl %eax              /* magic */
        call kmain
2:      cli
        hlt
        jmp 2b

/* IRQ0 (PIT, vector 0x20): count the tick, EOI the master PIC. */
        .globl irq0_stub
        .type irq0_stub, @function
irq0_stub:
        pushl %eax
        incl ticks
        movb $0x20, %al
        outb %al, $0x20
        popl %eax
        iret

/* Any other interrupt (spurious IRQ7/15 included): ignore it. */
        .globl ignore_stub
        .type ignore_stub, @function
ignore_stub:
        iret

/* CPU exceptions (vectors 0-31): report and stop. Never returns. */
        .globl fault_stub
        .type fault_stub, @function
fault_stub:
        cli
        movl $stack_top, %esp
        call guest_fault
3:      hlt
        jmp 3b

        .section .rodata
        .align 8
gdt:
        .quad 0x0000000000000000        /* null */
        .quad 0x00CF9A000000FFFF        /* 0x08: code, base 0, 4 GiB, 32-bit */
        .quad 0x00CF92000000FFFF        /* 0x10: data, base 0, 4 GiB */
gdt_desc:
        .word gdt_desc - gdt - 1
        .long gdt

        .bss
        .align 16
stack:
        .skip 16384
stack_top:

        .section .note.GNU-stack, "", @progbits
