# Pitstop UI (en): desk.
