# Pitstop UI (en): technician.
