# Pitstop UI (zh-CN): owner.
