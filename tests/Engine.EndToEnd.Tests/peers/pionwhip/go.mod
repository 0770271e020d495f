module pionwhip
