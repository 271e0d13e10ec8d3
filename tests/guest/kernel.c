/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ferry test guest: fills a working set with a known pattern, rewrites it at
 * a given rate, checks it, and prints heartbeats on COM1.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Command line (multiboot, from -append), all optional:
 *   wss=<MiB>        working-set size (default 16); alias dirty-mib=<MiB>
 *   base=<MiB>       start of the working set (default 2)
 *   rate=<MiB/s>     dirty rate, or rate=max to dirty in a tight loop
 *                    (default 0); values >= 4096 are treated as max
 *   hb=<ms>          heartbeat period (default 500, at least 10)
 *   chk=<n>          verify the whole working set every n heartbeats
 *                    (default 4, 0 = never)
 *   panic=<n>        after heartbeat n, signal a guest panic through the
 *                    pvpanic ISA device (byte 1 to I/O port 0x505) and stop
 *                    for good (cli; hlt); default 0 = never
 *   acpi=<0|1>       1 (default): power off when the ACPI power button is
 *                    pressed (QMP system_powerdown), as an OS would; 0:
 *                    ignore it, like a hung guest
 *
 * Serial output (COM1, 0x3f8):
 *   GUEST start wss=<MiB> rate=<MiB/s|max> mem=<MiB> base=<MiB> hb=<ms> chk=<n>
 *     (wss and base after clamping; mem = top of usable RAM, rounded up)
 *   GUEST filled
 *   HB <n> ms=<ticks> gen=<g> cur=<page> dirtied_pages=<k> err=<e> verify_bad=<v>
 *   GUEST panic after HB <n>
 *     (with panic=<n>, right after heartbeat n and just before the pvpanic write)
 *   GUEST power off after HB <n>
 *     (power button pressed, acpi=1; the guest then enters S5)
 *
 * Every counter lives in guest RAM, so after a live migration the destination
 * continues the sequence. The same counters are kept in a status block at
 * guest-physical 0x7000 (see struct guest_status). */

#include <stdint.h>

#define MIB (1024u * 1024u)
#define PAGE_SIZE 4096u
#define WORDS_PER_PAGE (PAGE_SIZE / 4u)
#define PAGES_PER_MIB (MIB / PAGE_SIZE)
#define RATE_MAX_MIB 4096u /* rate at or above this means "max" */
#define RATE_MAX 0xffffffffu
#define MAX_BATCH 256u /* pages per loop round with rate=max */
#define PIT_HZ 1000u
#define PIT_DIVISOR 1193u /* 1193182 Hz / 1193 = 1000.15 Hz */
#define COM1 0x3f8
#define FILL_XOR 0x5a5a5a5au
#define STATUS_ADDR 0x7000u
#define STATUS_MAGIC 0x59525246u /* "FRRY" */
#define PVPANIC_PORT 0x505       /* QEMU's ISA pvpanic device, default ioport */
#define PVPANIC_PANICKED 0x01u   /* "guest panicked" event */
/* ACPI PM1 registers: SeaBIOS puts the PM I/O base at 0x600 on both the
 * pc (PIIX4) and q35 (ICH9) machines. */
#define ACPI_PM1_STS 0x600u
#define ACPI_PM1_EN 0x602u
#define ACPI_PM1_CNT 0x604u
#define ACPI_PWRBTN 0x0100u /* PWRBTN_STS / PWRBTN_EN */
#define ACPI_SLP_TYP 0x1c00u
#define ACPI_SLP_EN 0x2000u /* with SLP_TYP 0: S5 (soft off) in QEMU */
#define ATA_IO 0x1f0u       /* the pc machine's primary IDE channel */
#define ATA_CTRL 0x3f6u
#define ATA_BSY 0x80u
#define ATA_DRQ 0x08u
#define ATA_ERR 0x01u
#define SECTOR_WORDS 128u /* 512-byte sectors, in 32-bit words */
#define BLOCK_SECTORS 8u  /* the guest's disk block: 4 KiB */

enum
{
  STATE_BOOT = 0,
  STATE_FILLING = 1,
  STATE_RUNNING = 2,
};

/* Guest-physical 0x7000; read it with HMP "xp /12wx 0x7000". */
struct guest_status
{
  uint32_t magic;      /* STATUS_MAGIC */
  uint32_t n;          /* last heartbeat number printed */
  uint32_t ms;         /* PIT ticks (1 kHz) since boot */
  uint32_t gen;        /* current sweep generation */
  uint32_t err;        /* page-write check mismatches */
  uint32_t verify_bad; /* pages found bad by full verifications */
  uint32_t cur;        /* next page to dirty */
  uint32_t state;      /* STATE_* */
  uint32_t wss_pages;  /* working-set size in 4 KiB pages */
  uint32_t base;       /* working-set start, bytes */
  uint32_t rate;       /* MiB/s, RATE_MAX for max */
  uint32_t verifies;   /* full verifications done */
};

struct multiboot_info
{
  uint32_t flags;
  uint32_t mem_lower;
  uint32_t mem_upper;
  uint32_t boot_device;
  uint32_t cmdline;
};

struct idt_entry
{
  uint16_t off_lo;
  uint16_t sel;
  uint8_t zero;
  uint8_t type;
  uint16_t off_hi;
} __attribute__ ((packed));

struct idt_ptr
{
  uint16_t limit;
  uint32_t base;
} __attribute__ ((packed));

void kmain (uint32_t magic, const struct multiboot_info *mbi);
void guest_fault (void);
void irq0_stub (void);
void ignore_stub (void);
void fault_stub (void);
extern char _end[];

volatile uint32_t ticks;

static struct idt_entry idt[256];
static volatile struct guest_status *const status = (volatile struct guest_status *) STATUS_ADDR;

/* Parameters. */
static uint32_t wss_mib = 16;
static uint32_t base_mib = 2;
static uint32_t rate_mib = 0;
static uint32_t hb_ms = 500;
static uint32_t chk_every = 4;
static uint32_t panic_after = 0; /* heartbeat to panic after, 0 = never */
static uint32_t acpi_power = 1;  /* obey the power button */
static uint32_t disk_kib = 0;    /* disk write rate, KiB/s; 0 = no disk I/O */
static uint32_t dstart_kib = 1024;
static uint32_t dsize_kib = 1024;

/* State (all in guest RAM, so it migrates with the guest). */
static uint32_t base_addr;
static uint32_t npages;
static uint32_t gen = 1;
static uint32_t cur;
static uint32_t hb_n;
static uint32_t dirtied;
static uint32_t err;
static uint32_t verify_bad;
static uint32_t verifies;
static uint32_t dblocks;  /* 4 KiB blocks in the disk region */
static uint32_t dcur;     /* next block to rewrite */
static uint32_t dgen = 1; /* sweep generation over the disk region */
static uint32_t dw;       /* blocks written since boot */
static uint32_t derr;     /* blocks that read back wrong, or I/O errors */

static inline void
outb (uint16_t port, uint8_t v)
{
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb (uint16_t port)
{
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static void
serial_init (void)
{
  outb (COM1 + 1, 0x00); /* no interrupts */
  outb (COM1 + 3, 0x80); /* DLAB */
  outb (COM1 + 0, 0x01); /* 115200 baud */
  outb (COM1 + 1, 0x00);
  outb (COM1 + 3, 0x03); /* 8N1 */
  outb (COM1 + 2, 0xc7); /* FIFO on, cleared */
  outb (COM1 + 4, 0x03); /* DTR, RTS */
}

static void
putc_serial (char c)
{
  while (!(inb (COM1 + 5) & 0x20))
    ;
  outb (COM1, (uint8_t) c);
}

static void
puts_serial (const char *s)
{
  while (*s)
    putc_serial (*s++);
}

static void
putu (uint32_t v)
{
  char buf[11];
  int i = 0;

  do
    {
      buf[i++] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v);
  while (i)
    putc_serial (buf[--i]);
}

static void
put_field (const char *name, uint32_t v)
{
  puts_serial (name);
  putu (v);
}

void
guest_fault (void)
{
  status->state = 0xdeadu;
  puts_serial ("\nGUEST fault\n");
}

/* Interrupts: IDT, PIC remapped to 0x20-0x2f, PIT channel 0 at 1 kHz. */

static void
idt_set (int vec, void (*handler) (void))
{
  uint32_t a = (uint32_t) handler;

  idt[vec].off_lo = (uint16_t) (a & 0xffff);
  idt[vec].sel = 0x08;
  idt[vec].zero = 0;
  idt[vec].type = 0x8e; /* present, ring 0, 32-bit interrupt gate */
  idt[vec].off_hi = (uint16_t) (a >> 16);
}

static void
interrupts_init (void)
{
  struct idt_ptr ip;
  int i;

  for (i = 0; i < 256; i++)
    idt_set (i, i < 32 ? fault_stub : ignore_stub);
  idt_set (0x20, irq0_stub);
  ip.limit = sizeof idt - 1;
  ip.base = (uint32_t) idt;
  __asm__ volatile("lidt %0" : : "m"(ip));

  outb (0x20, 0x11); /* ICW1: init, ICW4 needed */
  outb (0xa0, 0x11);
  outb (0x21, 0x20); /* ICW2: master vectors 0x20-0x27 */
  outb (0xa1, 0x28); /* slave vectors 0x28-0x2f */
  outb (0x21, 0x04); /* ICW3: slave on IRQ2 */
  outb (0xa1, 0x02);
  outb (0x21, 0x01); /* ICW4: 8086 mode */
  outb (0xa1, 0x01);
  outb (0x21, 0xfe); /* only IRQ0 */
  outb (0xa1, 0xff);

  outb (0x43, 0x34); /* channel 0, lo/hi, mode 2 */
  outb (0x40, PIT_DIVISOR & 0xff);
  outb (0x40, PIT_DIVISOR >> 8);
}

/* Command line. */

static int
key_is (const char *tok, const char *key, const char **val)
{
  while (*key && *tok == *key)
    {
      tok++;
      key++;
    }
  if (*key || *tok != '=')
    return 0;
  *val = tok + 1;
  return 1;
}

static int
is_sep (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

/* Parses a decimal number ending at a separator; saturates on overflow. */
static int
parse_u32 (const char *s, uint32_t *out)
{
  uint32_t v = 0;

  if (is_sep (*s))
    return 0;
  for (; !is_sep (*s); s++)
    {
      if (*s < '0' || *s > '9')
        return 0;
      if (v > (0xffffffffu - 9) / 10)
        v = 0xffffffffu;
      else
        v = v * 10 + (uint32_t) (*s - '0');
    }
  *out = v;
  return 1;
}

static void
parse_token (const char *tok)
{
  const char *val;
  uint32_t v;

  if ((key_is (tok, "wss", &val) || key_is (tok, "dirty-mib", &val)) && parse_u32 (val, &v))
    wss_mib = v;
  else if (key_is (tok, "base", &val) && parse_u32 (val, &v))
    base_mib = v;
  else if (key_is (tok, "rate", &val))
    {
      if (val[0] == 'm' && val[1] == 'a' && val[2] == 'x' && is_sep (val[3]))
        rate_mib = RATE_MAX;
      else if (parse_u32 (val, &v))
        rate_mib = v >= RATE_MAX_MIB ? RATE_MAX : v;
    }
  else if (key_is (tok, "hb", &val) && parse_u32 (val, &v))
    hb_ms = v < 10 ? 10 : v;
  else if (key_is (tok, "chk", &val) && parse_u32 (val, &v))
    chk_every = v;
  else if (key_is (tok, "panic", &val) && parse_u32 (val, &v))
    panic_after = v;
  else if (key_is (tok, "acpi", &val) && parse_u32 (val, &v))
    acpi_power = v != 0;
  else if (key_is (tok, "disk", &val) && parse_u32 (val, &v))
    disk_kib = v;
  else if (key_is (tok, "dstart", &val) && parse_u32 (val, &v))
    dstart_kib = v;
  else if (key_is (tok, "dsize", &val) && parse_u32 (val, &v))
    dsize_kib = v;
}

/* Returns the address just past the command line's terminating NUL. */
static uint32_t
parse_cmdline (const char *s)
{
  while (*s)
    {
      while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
      if (*s)
        parse_token (s);
      while (!is_sep (*s))
        s++;
    }
  return (uint32_t) s + 1;
}

/* Working set. Word 0 of each page holds a per-generation value; the other
 * words hold a fixed, non-zero fill pattern. */

static inline volatile uint32_t *
page_ptr (uint32_t p)
{
  return (volatile uint32_t *) (base_addr + p * PAGE_SIZE);
}

static inline uint32_t
gen_word (uint32_t p, uint32_t g)
{
  uint32_t h = p * 0x9e3779b1u + g * 0x85ebca77u;

  h ^= h >> 15;
  h ^= 0xc0ffee11u;
  return h ? h : 1;
}

static inline uint32_t
fill_base (uint32_t p)
{
  return (p << 10) ^ FILL_XOR; /* word i holds fill_base ^ i, i < 1024 */
}

static void
fill_all (void)
{
  uint32_t p, i;

  for (p = 0; p < npages; p++)
    {
      volatile uint32_t *w = page_ptr (p);
      uint32_t fb = fill_base (p);

      w[0] = gen_word (p, 0);
      for (i = 1; i < WORDS_PER_PAGE; i++)
        w[i] = fb ^ i;
    }
}

static void
verify_all (void)
{
  uint32_t p, i;

  for (p = 0; p < npages; p++)
    {
      volatile uint32_t *w = page_ptr (p);
      uint32_t fb = fill_base (p);
      uint32_t bad = w[0] != gen_word (p, p < cur ? gen : gen - 1);

      for (i = 1; i < WORDS_PER_PAGE; i++)
        bad |= w[i] != (fb ^ i);
      verify_bad += bad;
    }
  verifies++;
}

static void
dirty_pages (uint32_t count)
{
  if (!npages)
    return;
  while (count--)
    {
      volatile uint32_t *w = page_ptr (cur);

      if (*w != gen_word (cur, gen - 1))
        err++;
      *w = gen_word (cur, gen);
      dirtied++;
      if (++cur == npages)
        {
          cur = 0;
          gen++;
        }
    }
}

/* Disk: ATA PIO, 28-bit LBA, on the primary channel's master (QEMU's
 * ide-hd on the pc machine), polled with its interrupt off. Sector s of
 * the region holds, in generation g, sector_word (s, g) ^ i in word i. */

static inline void
outw (uint16_t port, uint16_t v)
{
  __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t
inw (uint16_t port)
{
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static inline uint32_t
sector_word (uint32_t s, uint32_t g)
{
  return gen_word (s ^ 0x00d15c00u, g) ^ 0x5eed0000u;
}

/* Returns 0 when the drive is ready for data (or done), 1 on error. */
static int
ata_wait (int want_drq)
{
  uint32_t spins = 0;
  uint8_t st;

  do
    {
      st = inb (ATA_IO + 7);
      if (++spins > 100000000u)
        return 1;
    }
  while ((st & ATA_BSY) || (want_drq && !(st & (ATA_DRQ | ATA_ERR))));
  return (st & ATA_ERR) ? 1 : 0;
}

/* Issues @command for BLOCK_SECTORS sectors at @lba; returns 1 on error. */
static int
ata_command (uint32_t lba, uint8_t command)
{
  if (ata_wait (0))
    return 1;
  outb (ATA_IO + 6, (uint8_t) (0xe0u | ((lba >> 24) & 0x0fu)));
  outb (ATA_IO + 2, BLOCK_SECTORS);
  outb (ATA_IO + 3, (uint8_t) lba);
  outb (ATA_IO + 4, (uint8_t) (lba >> 8));
  outb (ATA_IO + 5, (uint8_t) (lba >> 16));
  outb (ATA_IO + 7, command);
  return 0;
}

/* Rewrites @count 4 KiB blocks (a file system's block: aligned, so a
 * mirror with that granularity copies each write as it happens). */
static void
disk_rewrite (uint32_t count)
{
  uint32_t i, sec, lba;

  while (dblocks && count--)
    {
      lba = dstart_kib * 2u + dcur * BLOCK_SECTORS;
      /* From the second sweep on, the block must hold what this guest
       * wrote last time round, whichever host wrote it. */
      if (dgen > 1)
        {
          uint32_t expect = sector_word (dcur, dgen - 1), bad = 0;

          if (ata_command (lba, 0xc4)) /* READ MULTIPLE */
            bad = 1;
          for (sec = 0; !bad && sec < BLOCK_SECTORS; sec++)
            {
              if (ata_wait (1))
                {
                  bad = 1;
                  break;
                }
              for (i = 0; i < SECTOR_WORDS; i++)
                {
                  uint32_t lo = inw (ATA_IO), hi = inw (ATA_IO);
                  bad |= (lo | (hi << 16)) != (expect ^ (sec * SECTOR_WORDS + i));
                }
            }
          derr += bad;
        }
      /* WRITE MULTIPLE: the block goes to the disk as one 4 KiB write
       * (WRITE SECTORS would make it eight of 512 bytes). */
      if (ata_command (lba, 0xc5))
        derr++;
      else
        {
          uint32_t word = sector_word (dcur, dgen), bad = 0;

          for (sec = 0; !bad && sec < BLOCK_SECTORS; sec++)
            {
              if (ata_wait (1))
                {
                  bad = 1;
                  break;
                }
              for (i = 0; i < SECTOR_WORDS; i++)
                {
                  uint32_t v = word ^ (sec * SECTOR_WORDS + i);
                  outw (ATA_IO, (uint16_t) v);
                  outw (ATA_IO, (uint16_t) (v >> 16));
                }
            }
          if (bad || ata_wait (0))
            derr++;
        }
      dw++;
      if (++dcur == dblocks)
        {
          dcur = 0;
          dgen++;
        }
    }
}

static void
update_status (void)
{
  status->n = hb_n;
  status->ms = ticks;
  status->gen = gen;
  status->err = err;
  status->verify_bad = verify_bad;
  status->cur = cur;
  status->verifies = verifies;
}

/* Reports the panic on COM1, lets the UART drain, signals it to the host
 * through pvpanic and stops for good. */
static void guest_panic (void) __attribute__ ((noreturn));

static void
guest_panic (void)
{
  put_field ("GUEST panic after HB ", hb_n);
  putc_serial ('\n');
  while (!(inb (COM1 + 5) & 0x40)) /* transmitter empty */
    ;
  outb (PVPANIC_PORT, PVPANIC_PANICKED);
  for (;;)
    __asm__ volatile("cli; hlt");
}

/* The power button was pressed: say so, let the UART drain, enter S5
 * (QEMU then ends as on a guest's own power-off). */
static void guest_power_off (void) __attribute__ ((noreturn));

static void
guest_power_off (void)
{
  put_field ("GUEST power off after HB ", hb_n);
  putc_serial ('\n');
  while (!(inb (COM1 + 5) & 0x40)) /* transmitter empty */
    ;
  outw (ACPI_PM1_CNT, (uint16_t) ((inw (ACPI_PM1_CNT) & ~ACPI_SLP_TYP) | ACPI_SLP_EN));
  for (;;)
    __asm__ volatile("cli; hlt");
}

static void
heartbeat (void)
{
  hb_n++;
  if (chk_every && hb_n % chk_every == 0)
    verify_all ();
  update_status ();
  put_field ("HB ", hb_n);
  put_field (" ms=", ticks);
  put_field (" gen=", gen);
  put_field (" cur=", cur);
  put_field (" dirtied_pages=", dirtied);
  put_field (" err=", err);
  put_field (" verify_bad=", verify_bad);
  if (dblocks)
    {
      put_field (" dw=", dw);
      put_field (" dgen=", dgen);
      put_field (" derr=", derr);
    }
  putc_serial ('\n');
  dirtied = 0;
  if (panic_after && hb_n == panic_after)
    guest_panic ();
}

void
kmain (uint32_t magic, const struct multiboot_info *mbi)
{
  uint32_t mem_top = 0, min_base, end, seen, last_hb, acc = 0, dacc;

  serial_init ();
  if (magic != 0x2badb002u)
    puts_serial ("GUEST warning: not booted by a multiboot loader\n");

  min_base = (uint32_t) _end;
  if (mbi->flags & (1u << 2))
    {
      end = parse_cmdline ((const char *) mbi->cmdline);
      if (end > min_base && mbi->cmdline >= 0x100000u)
        min_base = end;
    }
  min_base = (min_base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
  if (mbi->flags & 1u)
    mem_top = 0x100000u + mbi->mem_upper * 1024u;

  /* Lay out [base, base + wss) inside the memory that exists. */
  base_addr = base_mib >= 4096 ? 0xfffff000u : base_mib * MIB;
  if (base_addr < min_base)
    base_addr = min_base;
  npages = wss_mib >= 4096 ? 0xfffffu : wss_mib * PAGES_PER_MIB;
  if (mem_top)
    {
      uint32_t avail = mem_top > base_addr ? (mem_top - base_addr) / PAGE_SIZE : 0;

      if (npages > avail)
        npages = avail;
    }

  status->magic = STATUS_MAGIC;
  status->state = STATE_BOOT;
  status->wss_pages = npages;
  status->base = base_addr;
  status->rate = rate_mib;
  update_status ();

  puts_serial ("GUEST start");
  put_field (" wss=", npages / PAGES_PER_MIB);
  if (rate_mib == RATE_MAX)
    puts_serial (" rate=max");
  else
    put_field (" rate=", rate_mib);
  /* The firmware keeps a little at the top (128 KiB with -m 64): round up. */
  put_field (" mem=", (uint32_t) (((uint64_t) mem_top + MIB - 1) / MIB));
  put_field (" base=", base_addr / MIB);
  put_field (" hb=", hb_ms);
  put_field (" chk=", chk_every);
  if (disk_kib)
    {
      dblocks = dsize_kib / 4u;
      dstart_kib &= ~3u;
      outb (ATA_CTRL, 0x02); /* nIEN: polled, no IRQ 14 */
      /* SET MULTIPLE MODE: a block per data transfer */
      ata_wait (0);
      outb (ATA_IO + 6, 0xe0);
      outb (ATA_IO + 2, BLOCK_SECTORS);
      outb (ATA_IO + 7, 0xc6);
      if (ata_wait (0))
        derr++;
      put_field (" disk=", disk_kib);
      put_field (" dstart=", dstart_kib);
      put_field (" dsize=", dsize_kib);
    }
  putc_serial ('\n');

  interrupts_init ();
  /* QEMU sets PWRBTN_STS only while PWRBTN_EN is set; the SCI it raises
   * stays masked (only IRQ0 is unmasked): the main loop polls. */
  if (acpi_power && inw (ACPI_PM1_STS) != 0xffffu)
    outw (ACPI_PM1_EN, (uint16_t) (inw (ACPI_PM1_EN) | ACPI_PWRBTN));
  /* No PM block there (ACPI off: the port reads all ones, or the enable
   * bit does not stick): nothing to poll. */
  if (inw (ACPI_PM1_STS) == 0xffffu || !(inw (ACPI_PM1_EN) & ACPI_PWRBTN))
    acpi_power = 0;
  __asm__ volatile("sti");

  status->state = STATE_FILLING;
  fill_all ();
  status->state = STATE_RUNNING;
  update_status ();
  puts_serial ("GUEST filled\n");

  seen = last_hb = ticks;
  dacc = 0;
  for (;;)
    {
      if (rate_mib == RATE_MAX)
        {
          dirty_pages (MAX_BATCH);
          seen = ticks;
        }
      else
        {
          uint32_t now;

          /* Sleep until the next tick unless one is already pending. */
          __asm__ volatile("cli");
          if (ticks == seen)
            __asm__ volatile("sti; hlt" ::: "memory");
          else
            __asm__ volatile("sti" ::: "memory");
          now = ticks;
          while (seen != now)
            {
              uint32_t n;

              seen++;
              acc += rate_mib * PAGES_PER_MIB;
              n = acc / PIT_HZ;
              acc -= n * PIT_HZ;
              dirty_pages (n);
              /* disk_kib KiB/s = disk_kib / 4 blocks/s */
              dacc += disk_kib;
              n = dacc / (PIT_HZ * 4u);
              dacc -= n * PIT_HZ * 4u;
              disk_rewrite (n);
            }
        }
      status->ms = seen;
      if (acpi_power && (inw (ACPI_PM1_STS) & ACPI_PWRBTN))
        guest_power_off ();
      if (seen - last_hb >= hb_ms)
        {
          last_hb += hb_ms;
          if (seen - last_hb >= hb_ms)
            last_hb = seen; /* fell behind (long verify): do not burst */
          heartbeat ();
        }
    }
}
