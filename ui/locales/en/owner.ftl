# Pitstop UI (en): owner.
