# fig14.gp: mIoU vs bytes per frame across scales (the paper's Fig. 14)
if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1000,560 font ',10' } else { set terminal png size 1000,560 }
set output 'fig14.png'
set title 'mIoU vs bandwidth (quality 0)'
set logscale x
set xlabel 'bytes per frame'
set ylabel 'mIoU (%)'
set key bottom right
set grid
plot 'fig14.dat' index 0 using 1:2 with linespoints pt 7 lw 2 title 'bilinear', '' index 0 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 1 using 1:2 with linespoints pt 7 lw 2 title 'sr', '' index 1 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 2 using 1:2 with linespoints pt 7 lw 2 title 'cloudseg', '' index 2 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 3 using 1:2 with linespoints pt 7 lw 2 title 'asr', '' index 3 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 4 using 1:2 with linespoints pt 7 lw 2 title 'asrall', '' index 4 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 5 using 1:2 with linespoints pt 7 lw 2 title 'l1only', '' index 5 using 1:2:3 with labels offset 0,1 notitle, \
     'fig14.dat' index 6 using 1:2 with linespoints pt 7 lw 2 title 'hr', '' index 6 using 1:2:3 with labels offset 0,1 notitle
